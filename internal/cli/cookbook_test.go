package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// recipe is one `sh` block of docs/COOKBOOK.md and the `text` block that
// follows it, if any: its expected standard output.
type recipe struct {
	title  string
	script string
	want   *string
}

var fence = regexp.MustCompile("(?m)^```([a-z]*)\n")

// cookbookRecipes extracts the recipes of a Markdown document: each `sh`
// block, titled by the heading above it.
func cookbookRecipes(md string) ([]recipe, error) {
	var recipes []recipe
	title := ""
	rest := md
	for {
		loc := fence.FindStringSubmatchIndex(rest)
		if loc == nil {
			return recipes, nil
		}
		for _, line := range strings.Split(rest[:loc[0]], "\n") {
			if strings.HasPrefix(line, "## ") {
				title = strings.TrimPrefix(line, "## ")
			}
		}
		lang := rest[loc[2]:loc[3]]
		body := rest[loc[1]:]
		end := strings.Index(body, "```\n")
		if end < 0 {
			return nil, fmt.Errorf("unclosed %s block under %q", lang, title)
		}
		block := body[:end]
		rest = body[end+4:]
		switch lang {
		case "sh":
			recipes = append(recipes, recipe{title: title, script: block})
		case "text":
			if len(recipes) == 0 || recipes[len(recipes)-1].want != nil || strings.TrimSpace(rest[:0]) != "" {
				return nil, fmt.Errorf("a text block under %q follows no recipe", title)
			}
			recipes[len(recipes)-1].want = &block
		}
	}
}

// TestCookbook runs every recipe of docs/COOKBOOK.md with bash against its
// own embedded broker ($TARGET: a second one, for the recipes that copy
// between brokers) and compares its output with the text block that
// follows it: the cookbook cannot drift from what the binary does.
func TestCookbook(t *testing.T) {
	t.Parallel()
	md, err := os.ReadFile(filepath.Join("..", "..", "docs", "COOKBOOK.md"))
	if err != nil {
		t.Fatal(err)
	}
	recipes, err := cookbookRecipes(string(md))
	if err != nil {
		t.Fatal(err)
	}
	if len(recipes) < 8 {
		t.Fatalf("found %d recipes in COOKBOOK.md; the extraction is broken", len(recipes))
	}
	dir := t.TempDir()
	slug := regexp.MustCompile(`[^a-z0-9]+`)
	for i, r := range recipes {
		var b bytes.Buffer
		fmt.Fprintf(&b, "# %s\nbroker mq --max-redeliveries 0\nbroker target\nenv STOMPEST_SERVER=$mq\nenv TARGET=$target\nexec bash -eo pipefail recipe.sh\n", r.title)
		if r.want != nil {
			b.WriteString("cmp stdout want.txt\n")
		}
		fmt.Fprintf(&b, "-- recipe.sh --\n%s", r.script)
		if r.want != nil {
			fmt.Fprintf(&b, "-- want.txt --\n%s", *r.want)
		}
		name := fmt.Sprintf("%02d-%s.txtar", i+1, strings.Trim(slug.ReplaceAllString(strings.ToLower(r.title), "-"), "-"))
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testscript.Run(t, scriptParams(dir))
}

func TestCookbookRecipes(t *testing.T) {
	t.Parallel()
	md := "# T\n\n## One\n\n```sh\necho 1\n```\n\n```text\n1\n```\n\n## Two\n\n```go\nx\n```\n\n```sh\necho 2\necho 3\n```\n"
	got, err := cookbookRecipes(md)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].title != "One" || got[0].script != "echo 1\n" || got[0].want == nil || *got[0].want != "1\n" ||
		got[1].title != "Two" || got[1].script != "echo 2\necho 3\n" || got[1].want != nil {
		t.Errorf("recipes %+v", got)
	}
	if _, err := cookbookRecipes("```text\nx\n```\n"); err == nil {
		t.Error("a text block without a recipe was accepted")
	}
	if _, err := cookbookRecipes("## A\n```sh\nx\n"); err == nil {
		t.Error("an unclosed block was accepted")
	}
}
