package register

import (
	"strings"

	docker "github.com/fsouza/go-dockerclient"
)

// composeServiceLabel names the service of a container created by Compose.
const composeServiceLabel = "com.docker.compose.service"

// defaultName is the service name of a container without SERVICE_NAME:
// the last path segment of its image reference without tag or digest
// (registry.example:5000/team/app:1.2@sha256:... -> app), made DNS-safe.
// A container created from an image ID has no such name (registrator
// registered "sha256", #701), so its Compose service name or else its
// container name is used.
func defaultName(c *docker.Container) string {
	ref := ""
	if c.Config != nil {
		ref = c.Config.Image
	}
	if ref != "" && !isImageID(ref, c.Image) {
		ref, _, _ = strings.Cut(ref, "@")
		if i := strings.LastIndex(ref, "/"); i >= 0 {
			ref = ref[i+1:]
		}
		ref, _, _ = strings.Cut(ref, ":")
		if n := dnsSafe(ref); n != "" {
			return n
		}
	}
	if c.Config != nil {
		if n := dnsSafe(c.Config.Labels[composeServiceLabel]); n != "" {
			return n
		}
	}
	if n := dnsSafe(containerName(c)); n != "" {
		return n
	}
	return dnsSafe(shortID(c.ID))
}

// isImageID reports whether ref names an image by its ID, in full
// ("sha256:4f3a...") or as a prefix ("4f3a2b9c1d0e"), rather than by name.
func isImageID(ref, imageID string) bool {
	if strings.HasPrefix(ref, "sha256:") {
		return true
	}
	if len(ref) < 12 || strings.Trim(ref, "0123456789abcdef") != "" {
		return false
	}
	return strings.HasPrefix(strings.TrimPrefix(imageID, "sha256:"), ref)
}

// dnsSafe lower-cases s and turns every run of characters other than letters,
// digits and '-' into one '-', trimming '-' at both ends: Consul's DNS
// interface answers only for such names.
func dnsSafe(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// containerName is the container's name without Docker's leading slash.
func containerName(c *docker.Container) string {
	return strings.TrimPrefix(c.Name, "/")
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
