package register

import (
	"cmp"
	"fmt"
	"sort"
	"strings"
)

// Meta keys drcon writes on every registration.
const (
	// metaOwner identifies the host and block that registered a service:
	// reconciles and cleanup only ever touch services with their own owner.
	metaOwner = "drcon-owner"
	// metaContainer is the ID of the container behind the service.
	metaContainer = "drcon-container"
	// metaHash fingerprints the registration drcon sent, so that a
	// reconcile compares what it would send with what it sent instead of
	// with the agent's normalised copy (tagged addresses, weights, check
	// definitions).
	metaHash = "drcon-hash"
)

// Consul's limits on service meta (agent/structs ValidateServiceMetadata).
const (
	metaMaxPairs    = 64
	metaMaxKeyLen   = 128
	metaMaxValueLen = 512
	ownMetaPairs    = 3
)

// notMeta are the SERVICE_* keys that registrator removed before it sent
// the others, check_* included, as service meta (its Attrs).
var notMeta = map[string]bool{"name": true, "id": true, "tags": true, "ignore": true}

// userMeta is the service meta from the keys drcon does not recognise. A
// key Consul would refuse is dropped with a warning, so that one bad label
// never fails the whole registration.
func userMeta(v view) (map[string]string, []warning) {
	keys := make([]string, 0, len(v))
	for k := range v {
		if !notMeta[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var warns []warning
	var over []string // the keys past Consul's count, named in one warning
	meta := map[string]string{}
	for _, k := range keys {
		val := v[k]
		if reason := badMetaKey(k); reason != "" {
			warns = append(warns, warning{src: val.src, msg: "not usable as Consul service meta: " + reason})
			continue
		}
		if len(val.v) > metaMaxValueLen {
			warns = append(warns, warning{src: val.src, msg: fmt.Sprintf("value longer than Consul's %d characters; not registered as meta", metaMaxValueLen)})
			continue
		}
		if len(meta) == metaMaxPairs-ownMetaPairs {
			over = append(over, cmp.Or(val.src, k))
			continue
		}
		meta[k] = val.v
	}
	if len(over) > 0 {
		warns = append(warns, warning{msg: fmt.Sprintf("more than Consul's %d meta keys; %d not registered as meta: %s",
			metaMaxPairs, len(over), strings.Join(over, ", "))})
	}
	return meta, warns
}

func badMetaKey(k string) string {
	switch {
	case len(k) > metaMaxKeyLen:
		return fmt.Sprintf("key longer than %d characters", metaMaxKeyLen)
	case strings.HasPrefix(k, "consul-"):
		return `keys starting with "consul-" are reserved by Consul`
	case strings.HasPrefix(k, "drcon-"):
		return `keys starting with "drcon-" are drcon's own`
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Sprintf("key %q has characters other than letters, digits, '_' and '-'", k)
		}
	}
	return ""
}
