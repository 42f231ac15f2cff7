// Package imagesig is cosign's image signature formats and their
// verification: the simple-signing payload, the in-toto statement cosign
// v3 signs for an image, legacy .sig/.att layers and bundle referrers
// turned into Sigstore bundles, and the verification of every signature
// found for an image digest. It knows nothing of flags.
package imagesig
