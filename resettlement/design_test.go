package resettlement

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDesignCitations checks that every citation of the design document in
// the module's Go files and README, `docs/design.md, "Section"`, names a
// section the document has, so renaming a section cannot strand a comment.
func TestDesignCitations(t *testing.T) {
	design, err := os.ReadFile("../docs/design.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, l := range strings.Split(string(design), "\n") {
		if h, ok := strings.CutPrefix(l, "#"); ok {
			sections[strings.TrimSpace(strings.TrimLeft(h, "#"))] = true
		}
	}
	// A citation may wrap onto the next comment line.
	wrap := regexp.MustCompile(`\n[ \t]*//[ \t]*`)
	cite := regexp.MustCompile(`docs/design\.md,?\s+"([^"]+)"`)
	found := 0
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".go") || path == filepath.Join("..", "README.md")) || d.Name() == "design_test.go" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := wrap.ReplaceAllString(string(src), " ")
		for _, m := range cite.FindAllStringSubmatch(text, -1) {
			found++
			if !sections[m[1]] {
				t.Errorf("%s cites docs/design.md, %q, which has no such section", path, m[1])
			}
		}
		if strings.Contains(string(src), "DESIGN.md") {
			t.Errorf("%s still cites DESIGN.md; cite docs/design.md with a section name", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Error("found no citations of docs/design.md at all")
	}
}
