package register

import (
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

// recognized are the SERVICE_* keys that mean something; every other key
// becomes service meta, as registrator's Attrs did.
var recognized = map[string]bool{
	"name": true, "id": true, "tags": true, "ignore": true,
	"check_http": true, "check_https": true, "check_tcp": true, "check_grpc": true,
	"check_script": true, "check_cmd": true, "check_ttl": true, "check_interval": true,
	"check_timeout": true, "check_initial_status": true, "check_deregister_after": true,
	"check_http_method": true, "check_https_method": true, "check_grpc_use_tls": true,
	"check_tls_skip_verify": true,
}

// userMeta is the service meta from the keys drcon does not recognise. A
// key Consul would refuse is dropped with a warning, so that one bad label
// never fails the whole registration.
func userMeta(v view) (map[string]string, []warning) {
	keys := make([]string, 0, len(v))
	for k := range v {
		if !recognized[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var warns []warning
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
			warns = append(warns, warning{src: val.src, msg: fmt.Sprintf("more than Consul's %d meta keys; not registered as meta", metaMaxPairs)})
			continue
		}
		meta[k] = val.v
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
