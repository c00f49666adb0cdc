package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dispatched lists the subcommands run accepts, read from main.go itself
// (the names it compares args[0] with, and the commands table), so a
// subcommand added to the dispatcher and not to the usage text fails here.
func dispatched(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	isArg0 := func(e ast.Expr) bool {
		ix, ok := e.(*ast.IndexExpr)
		if !ok {
			return false
		}
		id, ok1 := ix.X.(*ast.Ident)
		lit, ok2 := ix.Index.(*ast.BasicLit)
		return ok1 && ok2 && id.Name == "args" && lit.Value == "0"
	}
	var names []string
	add := func(e ast.Expr) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return
		}
		name, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "-") && !slices.Contains(names, name) { // -h, --help, --version: flags, not subcommands
			names = append(names, name)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr: // args[0] == "help"
			if n.Op == token.EQL && isArg0(n.X) {
				add(n.Y)
			}
		case *ast.SwitchStmt: // switch args[0] { case "holidays": … }
			if n.Tag != nil && isArg0(n.Tag) {
				for _, st := range n.Body.List {
					for _, e := range st.(*ast.CaseClause).List {
						add(e)
					}
				}
			}
		}
		return true
	})
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

// `throughgate help` names every subcommand the dispatcher accepts, each
// at the start of its own line, and the dispatcher knows each (none is
// refused as unknown).
func TestUsageNamesEverySubcommand(t *testing.T) {
	names := dispatched(t)
	for _, want := range []string{"dev", "api", "worker", "migrate", "cases", "import", "audit", "holidays", "healthcheck", "version", "help"} {
		if !slices.Contains(names, want) {
			t.Fatalf("reading main.go found the subcommands %v, not %q: the test no longer reads the dispatcher", names, want)
		}
	}
	var out, errs bytes.Buffer
	if code := run([]string{"help"}, &out, &errs); code != 0 {
		t.Fatalf("help: exit %d: %s", code, errs.String())
	}
	lines := strings.Split(out.String(), "\n")
	for _, name := range names {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, "  "+name+" ")
		}
		if !found {
			t.Errorf("the usage text has no line for `throughgate %s`:\n%s", name, out.String())
		}
	}
	// `import cases FILE` as the usage gives it.
	if !strings.Contains(out.String(), "  import cases FILE --by STAFF_ID [--dry-run]") {
		t.Errorf("the usage does not say how to import:\n%s", out.String())
	}
}
