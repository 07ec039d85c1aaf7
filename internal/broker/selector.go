package broker

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/stompest/stompest/internal/protocol"
)

// selector is a parsed message selector: a small subset of SQL-92 over
// header names, enough for what STOMP users write: comparisons with = and
// <> (or !=) of a header with a 'string' or a number, joined by AND, OR,
// NOT and parentheses. JMSMessageID names the message-id header, as on
// ActiveMQ.
type selector interface {
	match(h protocol.Headers) bool
}

type andSel struct{ l, r selector }
type orSel struct{ l, r selector }
type notSel struct{ x selector }
type cmpSel struct {
	name  string
	neq   bool
	str   string
	num   float64
	isNum bool
}

func (s andSel) match(h protocol.Headers) bool { return s.l.match(h) && s.r.match(h) }
func (s orSel) match(h protocol.Headers) bool  { return s.l.match(h) || s.r.match(h) }
func (s notSel) match(h protocol.Headers) bool { return !s.x.match(h) }

func (s cmpSel) match(h protocol.Headers) bool {
	v, ok := h.Get(s.name)
	if !ok {
		return false // SQL: a comparison with a missing value is unknown
	}
	eq := v == s.str
	if s.isNum {
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			eq = f == s.num
		}
	}
	return eq != s.neq
}

// parseSelector parses a selector expression.
func parseSelector(expr string) (selector, error) {
	p := &selParser{toks: nil}
	if err := p.lex(expr); err != nil {
		return nil, err
	}
	s, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return s, nil
}

type selTok struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'o' operator, '(' ')'
	text string
}

type selParser struct {
	toks []selTok
	pos  int
}

func (p *selParser) lex(s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			p.toks = append(p.toks, selTok{c, string(c)})
			i++
		case c == '=':
			p.toks = append(p.toks, selTok{'o', "="})
			i++
		case c == '<' && i+1 < len(s) && s[i+1] == '>', c == '!' && i+1 < len(s) && s[i+1] == '=':
			p.toks = append(p.toks, selTok{'o', "<>"})
			i += 2
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return fmt.Errorf("unterminated string at %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			p.toks = append(p.toks, selTok{'s', b.String()})
			i = j + 1
		case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && (s[j] == '.' || s[j] == 'e' || s[j] == 'E' || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			p.toks = append(p.toks, selTok{'n', s[i:j]})
			i = j
		case c == '_' || c == '$' || unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == '-' || s[j] == '.' || s[j] == '$' || unicode.IsLetter(rune(s[j])) || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			p.toks = append(p.toks, selTok{'i', s[i:j]})
			i = j
		default:
			return fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	if len(p.toks) == 0 {
		return fmt.Errorf("empty")
	}
	return nil
}

func (p *selParser) keyword(word string) bool {
	if p.pos < len(p.toks) && p.toks[p.pos].kind == 'i' && strings.EqualFold(p.toks[p.pos].text, word) {
		p.pos++
		return true
	}
	return false
}

func (p *selParser) or() (selector, error) {
	l, err := p.and()
	for err == nil && p.keyword("OR") {
		var r selector
		if r, err = p.and(); err == nil {
			l = orSel{l, r}
		}
	}
	return l, err
}

func (p *selParser) and() (selector, error) {
	l, err := p.unary()
	for err == nil && p.keyword("AND") {
		var r selector
		if r, err = p.unary(); err == nil {
			l = andSel{l, r}
		}
	}
	return l, err
}

func (p *selParser) unary() (selector, error) {
	if p.keyword("NOT") {
		x, err := p.unary()
		return notSel{x}, err
	}
	if p.pos < len(p.toks) && p.toks[p.pos].kind == '(' {
		p.pos++
		s, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != ')' {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return s, nil
	}
	if p.pos+2 >= len(p.toks) {
		return nil, fmt.Errorf("incomplete comparison")
	}
	id, op, lit := p.toks[p.pos], p.toks[p.pos+1], p.toks[p.pos+2]
	if id.kind != 'i' || op.kind != 'o' || (lit.kind != 's' && lit.kind != 'n') {
		return nil, fmt.Errorf("want HEADER = 'value' near %q", id.text)
	}
	p.pos += 3
	name := id.text
	if name == "JMSMessageID" {
		name = protocol.HdrMessageID
	}
	c := cmpSel{name: name, neq: op.text == "<>", str: lit.text}
	if lit.kind == 'n' {
		f, err := strconv.ParseFloat(lit.text, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", lit.text)
		}
		c.num, c.isNum = f, true
	}
	return c, nil
}
