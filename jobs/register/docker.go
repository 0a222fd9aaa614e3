package register

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/drcon/drcon/config"
	docker "github.com/fsouza/go-dockerclient"
)

// dockerAPI is what a registrator needs of a Docker engine.
type dockerAPI interface {
	// connect negotiates the API version with the engine and says who it is.
	connect(ctx context.Context) (engineInfo, error)
	// running lists the running containers.
	running(ctx context.Context) ([]listed, error)
	// inspect returns a container, or nil when there is no such container.
	inspect(ctx context.Context, id string) (*docker.Container, error)
	// events subscribes to the events of eventFilters since the given
	// engine time; it returns once the engine has accepted the request.
	events(ctx context.Context, since time.Time) (eventStream, error)
}

// engineInfo is the identity of a Docker engine and its clock.
type engineInfo struct {
	Name string
	ID   string
	Time time.Time // the engine's clock when connect asked; zero if unknown
}

// listed is a running container as the list shows it.
type listed struct {
	ID     string
	Labels map[string]string
}

// eventStream is a subscription to Docker events.
type eventStream interface {
	next() (*docker.APIEvents, error)
	close()
}

// maxAPIVersion is the newest Engine API whose answers drcon reads. drcon
// speaks the engine's version up to it: Docker 29 refuses clients below
// 1.44 and Docker 20.10 stops at 1.41, so no fixed pin serves both.
var maxAPIVersion = docker.APIVersion{1, 47}

// requestTimeout bounds every Docker request but the event stream.
const requestTimeout = 30 * time.Second

// engine reaches one Docker engine through go-dockerclient.
type engine struct {
	endpoint string
	base     string // URL prefix for requests drcon makes itself
	tls      *tlsFiles

	mu      sync.RWMutex
	client  *docker.Client // pinned to the negotiated version; nil before connect
	version string
	http    *http.Client // the client's transport without its timeout: for event streams
}

type tlsFiles struct {
	cert, key, ca string
}

// newEngine prepares a client for docker_host (DOCKER_HOST, else the local
// socket) with docker_tls; it does not contact the engine.
func newEngine(cfg *config.Registrator) (*engine, error) {
	e := &engine{endpoint: cfg.DockerHost}
	if e.endpoint == "" {
		e.endpoint = os.Getenv("DOCKER_HOST")
	}
	if e.endpoint == "" {
		e.endpoint = "unix:///var/run/docker.sock"
	}
	t := cfg.DockerTLS
	if t.Verify || t.CertFile != "" || t.CAFile != "" {
		e.tls = &tlsFiles{cert: t.CertFile, key: t.KeyFile}
		// Without verification, as with docker --tls, the engine's
		// certificate is not checked against a CA.
		if t.Verify {
			if t.CAFile == "" {
				return nil, errors.New("docker_tls: verify needs ca_file (or DOCKER_CERT_PATH)")
			}
			e.tls.ca = t.CAFile
		}
	}
	u, err := url.Parse(e.endpoint)
	if err != nil {
		return nil, fmt.Errorf("docker_host %q: %w", e.endpoint, err)
	}
	switch u.Scheme {
	case "unix":
		e.base = "http://docker"
	case "tcp", "http", "https":
		scheme := "http"
		if e.tls != nil || u.Scheme == "https" {
			scheme = "https"
		}
		e.base = scheme + "://" + u.Host
	default:
		return nil, fmt.Errorf("docker_host %q: want unix://, tcp://, http:// or https://", e.endpoint)
	}
	if _, err := e.newClient(""); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *engine) newClient(version string) (*docker.Client, error) {
	var c *docker.Client
	var err error
	if e.tls != nil {
		var cert, key, ca []byte
		if cert, err = readOptional(e.tls.cert); err == nil {
			if key, err = readOptional(e.tls.key); err == nil {
				ca, err = readOptional(e.tls.ca)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("docker_tls: %w", err)
		}
		c, err = docker.NewVersionedTLSClientFromBytes(e.endpoint, cert, key, ca, version)
	} else {
		c, err = docker.NewVersionedClient(e.endpoint, version)
	}
	if err != nil {
		return nil, fmt.Errorf("docker_host %q: %w", e.endpoint, err)
	}
	// drcon negotiated the version itself.
	c.SkipServerVersionCheck = true
	if u, _ := url.Parse(e.endpoint); u != nil && u.Scheme == "unix" {
		// Keep connections to the local socket open between requests:
		// go-dockerclient's default dials for every one.
		c.WithTransport(func() *http.Transport {
			return &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute}
		})
	}
	return c, nil
}

func readOptional(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	return os.ReadFile(path)
}

func (e *engine) connect(ctx context.Context) (engineInfo, error) {
	bare, err := e.newClient("")
	if err != nil {
		return engineInfo{}, err
	}
	defer bare.HTTPClient.CloseIdleConnections()
	stream := &http.Client{Transport: bare.HTTPClient.Transport}
	var ver struct {
		APIVersion string `json:"ApiVersion"`
	}
	if err := getJSON(ctx, stream, e.base+"/version", &ver); err != nil {
		return engineInfo{}, fmt.Errorf("ask the engine's API version: %w", err)
	}
	v, err := docker.NewAPIVersion(ver.APIVersion)
	if err != nil {
		return engineInfo{}, fmt.Errorf("engine API version %q: %w", ver.APIVersion, err)
	}
	if v.GreaterThan(maxAPIVersion) {
		v = maxAPIVersion
	}
	c, err := e.newClient(v.String())
	if err != nil {
		return engineInfo{}, err
	}
	stream = &http.Client{Transport: c.HTTPClient.Transport}
	c.SetTimeout(requestTimeout)
	var info struct {
		Name, ID, SystemTime string
	}
	if err := getJSON(ctx, stream, e.base+"/v"+v.String()+"/info", &info); err != nil {
		return engineInfo{}, fmt.Errorf("docker info: %w", err)
	}
	// An engine clock that does not parse leaves the subscription without
	// a start: only the events of the moment of subscribing are lost, and
	// the reconcile that follows covers them.
	now, _ := time.Parse(time.RFC3339Nano, info.SystemTime)
	e.mu.Lock()
	old := e.client
	e.client, e.version, e.http = c, v.String(), stream
	e.mu.Unlock()
	if old != nil {
		old.HTTPClient.CloseIdleConnections()
	}
	return engineInfo{Name: info.Name, ID: info.ID, Time: now}, nil
}

func (e *engine) current() (*docker.Client, string, *http.Client, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.client == nil {
		return nil, "", nil, errors.New("not connected to docker")
	}
	return e.client, e.version, e.http, nil
}

func (e *engine) running(ctx context.Context) ([]listed, error) {
	c, _, _, err := e.current()
	if err != nil {
		return nil, err
	}
	cs, err := c.ListContainers(docker.ListContainersOptions{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]listed, len(cs))
	for i, lc := range cs {
		out[i] = listed{ID: lc.ID, Labels: lc.Labels}
	}
	return out, nil
}

func (e *engine) inspect(ctx context.Context, id string) (*docker.Container, error) {
	c, _, _, err := e.current()
	if err != nil {
		return nil, err
	}
	ct, err := c.InspectContainerWithOptions(docker.InspectContainerOptions{ID: id, Context: ctx})
	var gone *docker.NoSuchContainer
	if errors.As(err, &gone) {
		return nil, nil
	}
	return ct, err
}

func (e *engine) events(ctx context.Context, since time.Time) (eventStream, error) {
	_, version, hc, err := e.current()
	if err != nil {
		return nil, err
	}
	filters, err := json.Marshal(eventFilters)
	if err != nil {
		return nil, err
	}
	q := url.Values{"filters": {string(filters)}}
	if !since.IsZero() {
		q.Set("since", fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/v"+version+"/events?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("subscribe to docker events: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("subscribe to docker events: %s: %s", resp.Status, msg)
	}
	return &jsonEvents{body: resp.Body, dec: json.NewDecoder(resp.Body)}, nil
}

// jsonEvents decodes the engine's stream of JSON events.
type jsonEvents struct {
	body io.ReadCloser
	dec  *json.Decoder
}

func (s *jsonEvents) next() (*docker.APIEvents, error) {
	var ev docker.APIEvents
	if err := s.dec.Decode(&ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

func (s *jsonEvents) close() { s.body.Close() }

func getJSON(ctx context.Context, hc *http.Client, u string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s: %s", resp.Status, msg)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
