package readme

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// imports are what the snippets may use; each is referenced once so that
// a snippet that does not use it still compiles.
var imports = map[string]string{
	"context":     "context.Background",
	"errors":      "errors.Is",
	"fmt":         "fmt.Sprint",
	"log":         "log.Printf",
	"time":        "time.Now",
	"rollback":    "rollback.Run",
	"aliyun":      "aliyun.New",
	"tencent":     "tencent.New",
	"clock":       "clock.NewAutoVirtual",
	"aliyuntest":  "aliyuntest.NewServer",
	"tencenttest": "tencenttest.NewServer",
	"memprovider": "memprovider.New",
}

var importPaths = map[string]string{
	"rollback":    "github.com/cloudsnap/rollback",
	"aliyun":      "github.com/cloudsnap/rollback/aliyun",
	"tencent":     "github.com/cloudsnap/rollback/tencent",
	"clock":       "github.com/cloudsnap/rollback/clock",
	"aliyuntest":  "github.com/cloudsnap/rollback/aliyun/aliyuntest",
	"tencenttest": "github.com/cloudsnap/rollback/tencent/tencenttest",
	"memprovider": "github.com/cloudsnap/rollback/memprovider",
}

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// TestSnippetsCompile builds and vets every ```go block of README.md, each
// as the body of a function (ctx in scope, returning error), in a module
// of its own that uses this one through a replace directive. It needs no
// network: every dependency is this module's. A block fenced "```go MODULE"
// uses a nested module and is compiled there, as that module's Example.
func TestSnippetsCompile(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlock.FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("no Go snippets in README.md")
	}
	var src strings.Builder
	src.WriteString("package snippets\n\nimport (\n")
	for name := range imports {
		path := importPaths[name]
		if path == "" {
			path = name
		}
		fmt.Fprintf(&src, "\t%q\n", path)
	}
	src.WriteString(")\n\nvar _ = []any{")
	for _, ref := range imports {
		src.WriteString(ref + ", ")
	}
	src.WriteString("}\n")
	for i, b := range blocks {
		body := strings.TrimRight(b[1], "\n")
		fmt.Fprintf(&src, "\n// README snippet %d\nfunc snippet%d(ctx context.Context) error {\n%s\n", i+1, i+1, body)
		lines := strings.Split(body, "\n")
		if !strings.HasPrefix(strings.TrimSpace(lines[len(lines)-1]), "return") {
			src.WriteString("return nil\n")
		}
		src.WriteString("}\n")
	}

	dir := t.TempDir()
	// The root's requirements, so that nothing needs resolving (no
	// network, no tidy: tidy would want the SDKs' test dependencies).
	rootMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	reqs := string(rootMod)[strings.Index(string(rootMod), "require"):]
	goMod := "module snippets\n\ngo 1.24\n\nrequire github.com/cloudsnap/rollback v0.0.0\n\n" + reqs +
		"\nreplace github.com/cloudsnap/rollback => " + root + "\n"
	write(t, filepath.Join(dir, "go.mod"), goMod)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.sum"), string(sum))
	write(t, filepath.Join(dir, "snippets.go"), src.String())
	for _, args := range [][]string{{"vet", "."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s\nsource:\n%s", strings.Join(args, " "), err, out, numbered(src.String()))
		}
	}
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func numbered(src string) string {
	var b strings.Builder
	for i, l := range strings.Split(src, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
}
