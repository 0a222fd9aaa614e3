package consul

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
)

// get sends a GET of path to Consul as consul/api sends it with the client's
// configuration (its resolved Options.Config): the same address, transport,
// token, basic auth and default datacenter, namespace and partition, and the
// query options o, plus params. It returns the body of a 200 answer and its
// metadata; any other status is an api.StatusError, as consul/api reports it.
// The caller puts the body back in bodies once it has decoded it.
func (f *Fetcher) get(ctx context.Context, path string, params url.Values, o *api.QueryOptions) (*bytes.Buffer, *api.QueryMeta, error) {
	cfg := f.o.Config
	q := url.Values{}
	for k, v := range map[string]string{"dc": cfg.Datacenter, "ns": cfg.Namespace, "partition": cfg.Partition} {
		if v != "" {
			q.Set(k, v)
		}
	}
	setQueryOptions(q, o)
	for k, vs := range params {
		q[k] = vs
	}
	host := cfg.Address
	if strings.HasPrefix(host, "/") { // a unix socket: consul/api's HTTP client dials it
		host = "localhost"
	}
	u := url.URL{Scheme: cfg.Scheme, Host: host, Path: cfg.PathPrefix + path, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Token != "" {
		req.Header.Set("X-Consul-Token", cfg.Token)
	}
	if cfg.HttpAuth != nil {
		req.SetBasicAuth(cfg.HttpAuth.Username, cfg.HttpAuth.Password)
	}
	if local(cfg.Address) {
		// Compressing a large answer costs Consul more than sending it over
		// loopback, and inflating it costs drcon a tenth of decoding it.
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := cfg.HttpClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		bodies.Put(buf)
		return nil, nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer bodies.Put(buf)
		return nil, nil, api.StatusError{Code: resp.StatusCode, Body: string(bytes.TrimSpace(buf.Bytes()))}
	}
	return buf, queryMeta(resp.Header), nil
}

// bodies recycles the buffers answers are read into: an answer is decoded
// into new values and its bytes are garbage at once, and growing a fresh
// buffer to a large answer, copy after copy, cost more than decoding it.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// setQueryOptions adds the options the fetcher uses to q, named as
// consul/api names them.
func setQueryOptions(q url.Values, o *api.QueryOptions) {
	for k, v := range map[string]string{"ns": o.Namespace, "partition": o.Partition,
		"sameness-group": o.SamenessGroup, "dc": o.Datacenter, "peer": o.Peer, "near": o.Near} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if o.AllowStale {
		q.Set("stale", "")
	}
	if o.WaitIndex != 0 {
		q.Set("index", strconv.FormatUint(o.WaitIndex, 10))
	}
	if o.WaitTime != 0 {
		ms := max(o.WaitTime/time.Millisecond, 1)
		q.Set("wait", strconv.FormatInt(int64(ms), 10)+"ms")
	}
	if o.UseCache {
		q.Set("cached", "")
	}
}

// queryMeta reads the headers the watcher pool uses; like consul/api's
// service queries, it takes a header that does not parse as absent.
func queryMeta(h http.Header) *api.QueryMeta {
	qm := &api.QueryMeta{}
	qm.LastIndex, _ = strconv.ParseUint(h.Get("X-Consul-Index"), 10, 64)
	if ms, err := strconv.ParseUint(h.Get("X-Consul-LastContact"), 10, 63); err == nil {
		qm.LastContact = time.Duration(ms) * time.Millisecond
	}
	qm.KnownLeader = h.Get("X-Consul-KnownLeader") == "true"
	return qm
}

// local reports whether addr (host:port, host, or a unix socket path)
// names this machine: the local agent of the DR CoN pattern.
func local(addr string) bool {
	if strings.HasPrefix(addr, "/") {
		return true
	}
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
