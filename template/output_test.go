package template

import "testing"

func TestOutputDropsIncompleteRuns(t *testing.T) {
	var o output
	o.Write([]byte("abc"))
	o.drop()
	o.Write([]byte("defg"))
	if out := o.take(); out != nil {
		t.Fatalf("a dropped run gave %q", out)
	}
	o.Write([]byte("x"))
	if cap(o.buf) != 7 {
		t.Errorf("the next run reserved %d bytes, want the 7 the dropped one wrote", cap(o.buf))
	}
	o.Write([]byte("yz"))
	if out := o.take(); string(out) != "xyz" {
		t.Fatalf("complete run gave %q", out)
	}
	if out := o.take(); out == nil || len(out) != 0 {
		t.Errorf("a complete run that wrote nothing gave %#v, want empty and not nil", out)
	}
	o.Write([]byte("partial"))
	o.reset()
	if out := o.take(); len(out) != 0 || out == nil {
		t.Errorf("after reset: %#v", out)
	}
}
