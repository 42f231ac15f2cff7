package signature

# An SPDX 2.x document made by syft that lists busybox.
allow {
	startswith(input.predicate.spdxVersion, "SPDX-2.")
	startswith(input.predicate.creationInfo.creators[_], "Tool: syft-")
	input.predicate.packages[_].name == "busybox"
}
