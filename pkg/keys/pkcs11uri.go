package keys

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// PKCS11URI is the part of an RFC 7512 pkcs11: URI that cosign reads:
// which token (token= label or slot-id=), which key (id= and/or object=),
// the module (?module-path=) and the PIN (?pin-value=). The PIN is a
// secret: print a URI only through redact.Ref.
type PKCS11URI struct {
	Token      string
	SlotID     *int
	ID         []byte
	Object     string
	ModulePath string
	PIN        string
}

// ParsePKCS11URI parses a pkcs11: URI; getenv supplies
// COSIGN_PKCS11_MODULE_PATH and COSIGN_PKCS11_PIN when the URI has no
// module-path or pin-value, as cosign does.
func ParsePKCS11URI(s string, getenv func(string) string) (*PKCS11URI, error) {
	rest, ok := strings.CutPrefix(s, "pkcs11:")
	if !ok {
		return nil, errors.New("not a pkcs11: URI")
	}
	path, query, _ := strings.Cut(rest, "?")
	u := &PKCS11URI{}
	for _, attr := range strings.Split(path, ";") {
		if attr == "" {
			continue
		}
		k, v, ok := strings.Cut(attr, "=")
		if !ok {
			return nil, fmt.Errorf("pkcs11 URI: path attribute %q has no value", k)
		}
		val, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("pkcs11 URI: attribute %s: %w", k, err)
		}
		switch k {
		case "token":
			u.Token = val
		case "slot-id":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("pkcs11 URI: slot-id %q is not a number", val)
			}
			u.SlotID = &n
		case "id":
			u.ID = []byte(val)
		case "object":
			u.Object = val
		case "pin-value":
			u.PIN = val
		}
	}
	for _, kv := range strings.Split(query, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("pkcs11 URI: query %s: %w", k, err)
		}
		switch k {
		case "module-path":
			u.ModulePath = val
		case "pin-value":
			u.PIN = val
		}
	}
	if u.ModulePath == "" && getenv != nil {
		u.ModulePath = getenv("COSIGN_PKCS11_MODULE_PATH")
	}
	if u.PIN == "" && getenv != nil {
		u.PIN = getenv("COSIGN_PKCS11_PIN")
	}
	switch {
	case u.ModulePath == "":
		return nil, errors.New("pkcs11 URI: no module: add ?module-path=/path/to/module.so or set COSIGN_PKCS11_MODULE_PATH")
	case !strings.HasPrefix(u.ModulePath, "/"):
		return nil, fmt.Errorf("pkcs11 URI: module-path %q must be absolute", u.ModulePath)
	case u.Token == "" && u.SlotID == nil:
		return nil, errors.New("pkcs11 URI: name the token with token= or slot-id=")
	case len(u.ID) == 0 && u.Object == "":
		return nil, errors.New("pkcs11 URI: name the key with id= or object=")
	}
	return u, nil
}

// KeyURI formats the URI of a key as list-keys-uris prints it: like
// cosign's, but without the PIN (pass it with COSIGN_PKCS11_PIN).
func KeyURI(token string, slot int, id []byte, label, module string) string {
	var b strings.Builder
	b.WriteString("pkcs11:token=" + url.PathEscape(token) + ";slot-id=" + strconv.Itoa(slot))
	if len(id) > 0 {
		b.WriteString(";id=")
		for _, c := range id {
			fmt.Fprintf(&b, "%%%02x", c) // lower case, as cosign writes it
		}
	}
	if label != "" {
		b.WriteString(";object=" + url.PathEscape(label))
	}
	b.WriteString("?module-path=" + module)
	return b.String()
}

// PKCS11Token describes a token in a slot (pkcs11-tool list-tokens).
type PKCS11Token struct {
	Slot                                     int
	Label, Manufacturer, Model, SerialNumber string
}

// PKCS11Key is a private key object in a token (list-keys-uris).
type PKCS11Key struct {
	ID    []byte
	Label string
}
