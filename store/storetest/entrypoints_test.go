package storetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"reflect"
	"testing"

	"github.com/gdprkit/gdprkit/store"
)

// TestEveryDomainHasAnEntryPoint keeps the per-domain entry points in step
// with store.Store: for every accessor (Consent, Authn, …) the package has
// a Run<Accessor> whose factory returns that accessor's type, and Run calls
// it. A domain added to store.Store without one fails here.
func TestEveryDomainHasAnEntryPoint(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "storetest.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]*ast.FuncDecl{}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
			funcs[fd.Name.Name] = fd
		}
	}
	calledByRun := map[string]bool{}
	if run := funcs["Run"]; run != nil {
		ast.Inspect(run.Body, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				calledByRun[id.Name] = true
			}
			return true
		})
	}
	st := reflect.TypeFor[store.Store]()
	for i := range st.NumMethod() {
		acc := st.Method(i)
		name := "Run" + acc.Name
		fd := funcs[name]
		if fd == nil {
			t.Errorf("store.Store has %s() but storetest has no %s", acc.Name, name)
			continue
		}
		// The second parameter is func(t *testing.T) <pkg>.Store.
		params := fd.Type.Params.List
		ft, ok := params[len(params)-1].Type.(*ast.FuncType)
		if !ok || ft.Results == nil || len(ft.Results.List) != 1 {
			t.Errorf("%s: the factory is not func(*testing.T) <domain>.Store", name)
			continue
		}
		want := acc.Type.Out(0)
		if got, w := typeName(ft.Results.List[0].Type), path.Base(want.PkgPath())+"."+want.Name(); got != w {
			t.Errorf("%s: the factory returns %s, want %s", name, got, w)
		}
		if !calledByRun[name] {
			t.Errorf("Run does not call %s", name)
		}
	}
}

// typeName returns "pkg.Name" for a qualified type expression, "?" for
// anything else.
func typeName(e ast.Expr) string {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if x, ok := sel.X.(*ast.Ident); ok {
			return x.Name + "." + sel.Sel.Name
		}
	}
	return "?"
}
