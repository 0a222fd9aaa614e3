package dedup

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/drcon/drcon/template/dep"
)

// The data format. A publication is a version line, then a gzip stream of
// lines: a JSON header, then one line per answer, its JSON description, a
// tab, and the answer's JSON:
//
//	drcon-dedup-data/1
//	<gzip>{"identity":"...","session":"...","holder":"...","drcon":"...",
//	       "seq":12,"published_at":"...","entries":30,"omitted":[...]}
//	      {"id":"health.service(web|passing)","dependency":{...},"index":123}<TAB>[...]
//	      ...
//
// Compact JSON holds no raw tab or newline, so a reader splits lines
// without parsing answers, compares each answer's bytes with the previous
// publication's, and decodes only those that changed: a follower's cost of
// an update is what changed, not the size of the set. The version line lets
// a reader refuse what it cannot read before decompressing anything, and
// tells an operator what the key holds; `tail -n +2 | gunzip` shows the
// rest. Within a version, fields are only ever added and readers ignore
// fields they do not know, so that agents of different drcon releases
// share data. An incompatible change bumps the version; a reader accepts
// every version up to its own and treats a newer one as unreadable (its
// agent then queries Consul itself). Answers are the JSON of their dep
// types, as in snapshots.
const (
	dataFormat = "drcon-dedup-data/"
	lockFormat = "drcon-dedup-lock"
	// FormatVersion is the version this package writes and the newest it reads.
	FormatVersion = 1

	// maxDecoded bounds the decompressed size of a publication, so that a
	// corrupt or hostile value cannot exhaust memory.
	maxDecoded = 256 << 20
)

// Compression state is large (the writer's is most of a megabyte): reuse it.
var (
	writers = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}
	readers sync.Pool
)

var (
	// ErrNewerFormat is wrapped by DecodeData for data written in a format
	// version this drcon does not know.
	ErrNewerFormat = errors.New("written in a newer format")
	// ErrCorrupt is wrapped by DecodeData for data that cannot be read.
	ErrCorrupt = errors.New("corrupt data")
)

// Data is one publication of a leader.
type Data struct {
	Identity    string
	Session     string // the writer's session
	Holder      string // the writer, for people: host and process
	Drcon       string // the writer's drcon version
	Seq         uint64 // publication number within the writer's session
	PublishedAt time.Time
	Entries     map[dep.Dependency]Entry
	// Omitted lists dependencies the leader watches but did not publish:
	// failing, not representable in JSON, or too large to fit.
	Omitted []string
}

// Entry is the published answer to one dependency.
type Entry struct {
	// Index is the Consul index at which the leader saw this answer.
	Index uint64
	Value any
	// Raw is the answer's JSON, to compare answers without decoding them.
	Raw []byte
}

// wireData is a publication before it is written.
type wireData struct {
	Identity    string
	Session     string
	Holder      string
	Drcon       string
	Seq         uint64
	PublishedAt time.Time
	Entries     []wireEntry
	Omitted     []string
}

type wireEntry struct {
	ID         string
	Dependency dep.Wire
	Index      uint64
	Answer     []byte
}

// wireHeader is a publication's first line.
type wireHeader struct {
	Identity    string    `json:"identity"`
	Session     string    `json:"session"`
	Holder      string    `json:"holder,omitempty"`
	Drcon       string    `json:"drcon,omitempty"`
	Seq         uint64    `json:"seq"`
	PublishedAt time.Time `json:"published_at"`
	// Entries is the number of answer lines that follow, so that a
	// publication cut short is refused.
	Entries int      `json:"entries"`
	Omitted []string `json:"omitted,omitempty"`
}

// wireEntryHead describes the answer that follows it on its line.
type wireEntryHead struct {
	ID         string   `json:"id"`
	Dependency dep.Wire `json:"dependency"`
	Index      uint64   `json:"index"`
}

// nullable reports whether JSON null is an answer of kind k (a nil slice
// or pointer); for the others it can only be damage, which json would
// silently decode as a zero answer.
func nullable(k dep.Kind) bool {
	p, err := dep.NewValue(k)
	if err != nil {
		return false
	}
	switch reflect.TypeOf(p).Elem().Kind() {
	case reflect.Slice, reflect.Pointer:
		return true
	}
	return false
}

// compress writes the version line and gzips the lines of w; plain is
// the size of the lines.
func compress(w *wireData) (plain int, out []byte, err error) {
	var body bytes.Buffer
	line := func(v any) error {
		js, err := dep.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode dedup data: %w", err)
		}
		body.Write(js)
		return nil
	}
	if err := line(wireHeader{Identity: w.Identity, Session: w.Session, Holder: w.Holder, Drcon: w.Drcon,
		Seq: w.Seq, PublishedAt: w.PublishedAt, Entries: len(w.Entries), Omitted: w.Omitted}); err != nil {
		return 0, nil, err
	}
	body.WriteByte('\n')
	for _, e := range w.Entries {
		if bytes.ContainsAny(e.Answer, "\t\n") {
			return 0, nil, fmt.Errorf("encode dedup data: %s: answer is not compact JSON", e.ID)
		}
		if err := line(wireEntryHead{ID: e.ID, Dependency: e.Dependency, Index: e.Index}); err != nil {
			return 0, nil, err
		}
		body.WriteByte('\t')
		body.Write(e.Answer)
		body.WriteByte('\n')
	}
	plain = body.Len()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s%d\n", dataFormat, FormatVersion)
	z := writers.Get().(*gzip.Writer)
	defer writers.Put(z)
	z.Reset(&b)
	if _, err := body.WriteTo(z); err != nil {
		return 0, nil, fmt.Errorf("compress dedup data: %w", err)
	}
	if err := z.Close(); err != nil {
		return 0, nil, fmt.Errorf("compress dedup data: %w", err)
	}
	return plain, b.Bytes(), nil
}

// DecodeData reads a publication. prev, when not nil, is the previous
// publication read from the same key: answers whose JSON did not change
// keep their decoded value, so that an update costs only what changed and
// unchanged answers stay identical. The result is complete or an error:
// one unreadable answer rejects the whole publication.
func DecodeData(raw []byte, prev *Data) (*Data, error) {
	line, rest, ok := bytes.Cut(raw, []byte("\n"))
	version, found := bytes.CutPrefix(line, []byte(dataFormat))
	if !ok || !found {
		return nil, fmt.Errorf("%w: not drcon dedup data", ErrCorrupt)
	}
	v, err := strconv.Atoi(string(version))
	switch {
	case err != nil || v < 1:
		return nil, fmt.Errorf("%w: version %q", ErrCorrupt, version)
	case v > FormatVersion:
		return nil, fmt.Errorf("%w: version %d; this drcon reads versions 1 to %d", ErrNewerFormat, v, FormatVersion)
	}
	js, err := gunzip(rest)
	if err != nil {
		return nil, err
	}
	return decodeV1(js, prev)
}

func gunzip(b []byte) ([]byte, error) {
	var err error
	z, _ := readers.Get().(*gzip.Reader)
	if z == nil {
		z, err = gzip.NewReader(bytes.NewReader(b))
	} else {
		err = z.Reset(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not gzip: %w", ErrCorrupt, err)
	}
	defer readers.Put(z)
	// gzip's trailer ends with the size of the data (mod 2³²): a good
	// first size of the buffer, bounded so that a damaged trailer cannot
	// make it large; beyond the bound the buffer grows as it is filled.
	var out bytes.Buffer
	if len(b) >= 4 {
		out.Grow(int(min(binary.LittleEndian.Uint32(b[len(b)-4:]), 64*uint32(min(len(b), maxDecoded)))) + 1)
	}
	if _, err := out.ReadFrom(io.LimitReader(z, maxDecoded+1)); err != nil {
		return nil, fmt.Errorf("%w: decompress: %w", ErrCorrupt, err)
	}
	if out.Len() > maxDecoded {
		return nil, fmt.Errorf("%w: more than %d bytes decompressed", ErrCorrupt, maxDecoded)
	}
	return out.Bytes(), nil
}

func decodeV1(body []byte, prev *Data) (*Data, error) {
	first, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return nil, fmt.Errorf("%w: no header", ErrCorrupt)
	}
	var h wireHeader
	if err := json.Unmarshal(first, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrCorrupt, err)
	}
	if h.Identity == "" || h.Session == "" {
		return nil, fmt.Errorf("%w: no identity or session", ErrCorrupt)
	}
	d := &Data{Identity: h.Identity, Session: h.Session, Holder: h.Holder, Drcon: h.Drcon, Seq: h.Seq,
		PublishedAt: h.PublishedAt, Omitted: h.Omitted, Entries: make(map[dep.Dependency]Entry, h.Entries)}
	n := 0
	for len(rest) > 0 {
		var line []byte
		if line, rest, ok = bytes.Cut(rest, []byte("\n")); !ok {
			return nil, fmt.Errorf("%w: entry %d: cut short", ErrCorrupt, n+1)
		}
		n++
		head, answer, ok := bytes.Cut(line, []byte("\t"))
		if !ok {
			return nil, fmt.Errorf("%w: entry %d: no answer", ErrCorrupt, n)
		}
		var e wireEntryHead
		if err := json.Unmarshal(head, &e); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrCorrupt, n, err)
		}
		if err := d.add(e, answer, prev); err != nil {
			return nil, fmt.Errorf("%w: entry %d (%s): %w", ErrCorrupt, n, e.ID, err)
		}
	}
	if n != h.Entries {
		return nil, fmt.Errorf("%w: %d entries, the header says %d", ErrCorrupt, n, h.Entries)
	}
	return d, nil
}

func (d *Data) add(e wireEntryHead, answer []byte, prev *Data) error {
	dd := e.Dependency.Dependency()
	if e.ID != dd.String() {
		return fmt.Errorf("id does not match the dependency's fields (%s)", dd)
	}
	if !dd.Shareable() {
		return errors.New("dependency is not shareable")
	}
	if _, dup := d.Entries[dd]; dup {
		return errors.New("dependency listed twice")
	}
	if len(answer) == 0 {
		return errors.New("no answer")
	}
	if bytes.Equal(answer, []byte("null")) && !nullable(dd.Kind) {
		return errors.New("null answer")
	}
	if prev != nil {
		if p, ok := prev.Entries[dd]; ok && bytes.Equal(p.Raw, answer) {
			d.Entries[dd] = Entry{Index: e.Index, Value: p.Value, Raw: p.Raw}
			return nil
		}
	}
	v, err := dep.DecodeValue(dd.Kind, answer)
	if err != nil {
		return err
	}
	// A copy: the publication's buffer is not kept alive by one answer.
	d.Entries[dd] = Entry{Index: e.Index, Value: v, Raw: bytes.Clone(answer)}
	return nil
}
