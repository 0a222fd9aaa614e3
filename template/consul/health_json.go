package consul

import (
	"encoding/json"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/template/dep"
)

// decodeHealth decodes the answer of /v1/health/service and
// /v1/health/connect into instances, with the values encoding/json gives the
// fields of api.ServiceEntry that templates read. It is the hot path of the
// DR CoN pattern (an upstream per service over thousands of instances):
// encoding/json, which scans each byte twice and goes through reflection,
// spent half of such a render's CPU here, and consul/api's types twice the
// memory; this decoder takes one pass, fills the instances directly and
// skips what no template can see (Proxy, Connect, indexes, ...).
//
// A check's Definition, which has its own UnmarshalJSON, is left to
// encoding/json unless it is the usual {}, or null, on which consul/api's
// UnmarshalJSON panics.
func decodeHealth(b []byte) ([]*instance, error) {
	l := &lexer{b: b}
	var out []*instance
	if !l.null() {
		out = []*instance{}
		err := l.array(func() error {
			var in *instance
			if !l.null() {
				in = &instance{}
				if err := l.instance(in); err != nil {
					return err
				}
			}
			out = append(out, in)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if err := l.end(); err != nil {
		return nil, err
	}
	return out, nil
}

// instance reads one entry. A repeated "Node" or "Service" merges into the
// one before, and null forgets it, as encoding/json does with a pointer.
func (l *lexer) instance(in *instance) error {
	return l.object(func(key []byte) error {
		switch fieldName(key, "Node", "Service", "Checks") {
		case "Node":
			if l.null() {
				in.hasNode = false
				in.Node, in.NodeID, in.NodeAddress, in.NodeTaggedAddresses, in.NodeMeta = "", "", "", nil, nil
				return nil
			}
			in.hasNode = true
			return l.node(&in.HealthService)
		case "Service":
			if l.null() {
				in.hasService = false
				in.ID, in.Name, in.Tags, in.Address, in.ServiceMeta = "", "", nil, "", nil
				in.Port, in.ServiceTaggedAddresses, in.Weights = 0, nil, api.AgentWeights{}
				return nil
			}
			in.hasService = true
			return l.service(&in.HealthService)
		case "Checks":
			return l.checks(&in.Checks)
		}
		return l.skip()
	})
}

// node reads an api.Node object into the node fields of hs.
func (l *lexer) node(hs *dep.HealthService) error {
	return l.object(func(key []byte) error {
		switch fieldName(key, "ID", "Node", "Address", "TaggedAddresses", "Meta") {
		case "ID":
			return l.str(&hs.NodeID)
		case "Node":
			return l.str(&hs.Node)
		case "Address":
			return l.str(&hs.NodeAddress)
		case "TaggedAddresses":
			return l.stringMap(&hs.NodeTaggedAddresses)
		case "Meta":
			return l.stringMap(&hs.NodeMeta)
		}
		return l.skip()
	})
}

// service reads an api.AgentService object into the service fields of hs.
func (l *lexer) service(hs *dep.HealthService) error {
	return l.object(func(key []byte) error {
		switch fieldName(key, "ID", "Service", "Tags", "Meta", "Port", "Address", "TaggedAddresses", "Weights") {
		case "ID":
			return l.str(&hs.ID)
		case "Service":
			return l.str(&hs.Name)
		case "Tags":
			return l.strings((*[]string)(&hs.Tags))
		case "Meta":
			return l.stringMap(&hs.ServiceMeta)
		case "Port":
			return l.int(&hs.Port)
		case "Address":
			return l.str(&hs.Address)
		case "TaggedAddresses":
			return l.serviceAddresses(&hs.ServiceTaggedAddresses)
		case "Weights":
			if l.null() {
				return nil
			}
			return l.object(func(key []byte) error {
				switch fieldName(key, "Passing", "Warning") {
				case "Passing":
					return l.int(&hs.Weights.Passing)
				case "Warning":
					return l.int(&hs.Weights.Warning)
				}
				return l.skip()
			})
		}
		return l.skip()
	})
}

func (l *lexer) serviceAddresses(m *map[string]api.ServiceAddress) error {
	if l.null() {
		*m = nil
		return nil
	}
	if l.peek() != '{' {
		return l.errorf("expected an object")
	}
	if *m == nil {
		*m = map[string]api.ServiceAddress{}
	}
	return l.object(func(name []byte) error {
		var a api.ServiceAddress
		if !l.null() {
			err := l.object(func(key []byte) error {
				switch fieldName(key, "Address", "Port") {
				case "Address":
					return l.str(&a.Address)
				case "Port":
					return l.int(&a.Port)
				}
				return l.skip()
			})
			if err != nil {
				return err
			}
		}
		(*m)[string(name)] = a
		return nil
	})
}

// checks reads the checks into *cs. A repeated "Checks" decodes its
// elements into those before, as encoding/json does with a slice of
// pointers.
func (l *lexer) checks(cs *api.HealthChecks) error {
	if l.null() {
		*cs = nil
		return nil
	}
	before := *cs
	out := api.HealthChecks{}
	err := l.array(func() error {
		var c *api.HealthCheck
		if i := len(out); i < len(before) {
			c = before[i]
		}
		if l.null() {
			c = nil
		} else {
			if c == nil {
				c = &api.HealthCheck{}
			}
			if err := l.check(c); err != nil {
				return err
			}
		}
		out = append(out, c)
		return nil
	})
	*cs = out
	return err
}

func (l *lexer) check(c *api.HealthCheck) error {
	return l.object(func(key []byte) error {
		switch fieldName(key, "Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID", "ServiceName",
			"ServiceTags", "Type", "Namespace", "Partition", "ExposedPort", "PeerName", "Definition",
			"CreateIndex", "ModifyIndex") {
		case "Node":
			return l.str(&c.Node)
		case "CheckID":
			return l.str(&c.CheckID)
		case "Name":
			return l.str(&c.Name)
		case "Status":
			return l.str(&c.Status)
		case "Notes":
			return l.str(&c.Notes)
		case "Output":
			return l.str(&c.Output)
		case "ServiceID":
			return l.str(&c.ServiceID)
		case "ServiceName":
			return l.str(&c.ServiceName)
		case "ServiceTags":
			return l.strings(&c.ServiceTags)
		case "Type":
			return l.str(&c.Type)
		case "Namespace":
			return l.str(&c.Namespace)
		case "Partition":
			return l.str(&c.Partition)
		case "ExposedPort":
			return l.int(&c.ExposedPort)
		case "PeerName":
			return l.str(&c.PeerName)
		case "CreateIndex":
			return l.uint64(&c.CreateIndex)
		case "ModifyIndex":
			return l.uint64(&c.ModifyIndex)
		case "Definition":
			if l.null() {
				// consul/api's UnmarshalJSON would dereference nil here.
				return nil
			}
			raw, err := l.raw()
			if err != nil {
				return err
			}
			// UnmarshalJSON of {} changes nothing, whether the definition is
			// zero or was itself decoded: skip the detour.
			if isEmptyObject(raw) {
				return nil
			}
			if err := json.Unmarshal(raw, &c.Definition); err != nil {
				return l.errorf("check definition: %v", err)
			}
			return nil
		}
		return l.skip()
	})
}

// isEmptyObject reports whether a checked JSON value is {} (with or without
// white space inside).
func isEmptyObject(raw []byte) bool {
	l := &lexer{b: raw}
	if l.peek() != '{' {
		return false
	}
	l.i++
	return l.peek() == '}'
}
