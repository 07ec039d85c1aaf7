// Package filter evaluates --filter expressions over received messages in
// the client, so that a selection by headers and JSON body fields works on
// every broker, selectors or not.
//
// An expression is written in the expr language
// (https://expr-lang.org/docs/language-definition) over four names:
//
//	headers      the message's headers (map of strings: a missing one is "";
//	             `"k" in headers` tells whether k is there)
//	body         the body parsed as JSON (nil when it is not JSON)
//	text         the body as a string
//	destination  the destination header
//
// and must be true or false: `headers["order-id"] == "42" && body.amount > 100`.
package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/stompest/stompest/internal/protocol"
)

// env is what an expression sees of a message.
type env struct {
	Headers     map[string]string `expr:"headers"`
	Body        any               `expr:"body"`
	Text        string            `expr:"text"`
	Destination string            `expr:"destination"`
}

// Filter is a compiled --filter expression. It is not safe for concurrent
// use: each goroutine needs its own (see Clone).
type Filter struct {
	src      string
	prog     *vm.Program
	body     bool // the expression reads body: parse JSON
	text     bool // the expression reads text
	vm       vm.VM
	env      env
	headers  map[string]string
	Failures int   // messages whose evaluation failed (taken as no match)
	LastErr  error // the last such failure
}

// Compile compiles src. A syntax or type error is reported on one line
// with its column: `--filter: unexpected token Operator("&&") at column 24`.
func Compile(src string) (*Filter, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("--filter: empty expression")
	}
	prog, err := expr.Compile(src, expr.Env(env{}), expr.AsBool())
	if err != nil {
		return nil, fmt.Errorf("--filter: %s", oneLine(err))
	}
	f := &Filter{src: src, prog: prog, headers: map[string]string{}}
	root := prog.Node()
	ast.Walk(&root, names{f})
	return f, nil
}

// names notes which of the costly names an expression reads.
type names struct{ f *Filter }

func (n names) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok {
		switch id.Value {
		case "body":
			n.f.body = true
		case "text":
			n.f.text = true
		}
	}
}

// oneLine is an expr error without its source snippet, the position as a
// column.
func oneLine(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		msg := fe.Message
		if fe.Line > 1 {
			return fmt.Sprintf("%s at line %d, column %d", msg, fe.Line, fe.Column+1)
		}
		return fmt.Sprintf("%s at column %d", msg, fe.Column+1)
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// Clone returns a filter of the same expression with its own state.
func (f *Filter) Clone() *Filter {
	return &Filter{src: f.src, prog: f.prog, body: f.body, text: f.text, headers: map[string]string{}}
}

// String is the expression's source.
func (f *Filter) String() string { return f.src }

// Match reports whether the message fr satisfies the expression. An
// evaluation that fails (a comparison of a missing body field with a
// number, say) is no match, counted in Failures.
func (f *Filter) Match(fr *protocol.Frame) bool {
	clear(f.headers)
	for _, h := range fr.Headers {
		if _, seen := f.headers[h.Name]; !seen {
			f.headers[h.Name] = h.Value
		}
	}
	f.env = env{Headers: f.headers, Destination: fr.Header(protocol.HdrDestination)}
	if f.body {
		var v any
		if json.Unmarshal(fr.Body, &v) == nil {
			f.env.Body = v
		}
	}
	if f.text {
		f.env.Text = string(fr.Body)
	}
	out, err := f.vm.Run(f.prog, &f.env)
	if err != nil {
		f.Failures++
		f.LastErr = errors.New(oneLine(err))
		return false
	}
	ok, _ := out.(bool)
	return ok
}
