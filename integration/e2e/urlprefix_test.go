package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// TestURLPrefixExample: examples/urlprefix routes paths to services by
// their urlprefix- tags, on one nginx site.
func TestURLPrefixExample(t *testing.T) {
	st := startStack(t, "urlprefix", true)
	api1 := run(t, st, "-l", "SERVICE_NAME=api", "-l", "SERVICE_TAGS=urlprefix-/api,urlprefix-/v2")
	web := run(t, st, "-l", "SERVICE_NAME=web", "-l", "SERVICE_TAGS=urlprefix-/")
	api2 := run(t, st, "-l", "SERVICE_NAME=api", "-l", "SERVICE_TAGS=urlprefix-/api,urlprefix-/v2")

	waitServes(t, st, "any", "/api/users", api1.Host(), api2.Host())
	waitServes(t, st, "any", "/v2/x", api1.Host(), api2.Host())
	waitServes(t, st, "any", "/", web.Host())
	waitServes(t, st, "any", "/index.html", web.Host())

	t.Run("a prefix claimed twice is refused by the check", func(t *testing.T) {
		before := jobStatus(t, st, "nginx").Check.At
		if err := consulClient(t, st).Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "intruder-1",
			Name: "intruder", Tags: []string{"urlprefix-/api"}, Address: "127.0.0.1", Port: 9}); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 30*time.Second, "the check to refuse a duplicate location", func() bool {
			s := jobStatus(t, st, "nginx")
			return s.Check != nil && s.Check.At.After(before) && strings.Contains(s.LastError, "duplicate location")
		})
		waitServes(t, st, "any", "/api/users", api1.Host(), api2.Host())
		if err := consulClient(t, st).Agent().ServiceDeregister("intruder-1"); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 30*time.Second, "the job to render again", func() bool {
			return jobStatus(t, st, "nginx").LastError == ""
		})
	})

	t.Run("no service claims /", func(t *testing.T) {
		docker(t, "rm", "-f", web.ID)
		testenv.WaitFor(t, 30*time.Second, "/ to answer 404", func() bool {
			code, _ := get(st.Paths.ProxyAddr, "any", "/")
			return code == http.StatusNotFound
		})
		waitServes(t, st, "any", "/api/users", api1.Host(), api2.Host())
	})
}
