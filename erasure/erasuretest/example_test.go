package erasuretest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gdprkit/gdprkit/erasure/erasuretest"
	"github.com/gdprkit/gdprkit/store/memstore"
)

func ExampleWrapStore() {
	f := &erasuretest.Faults{}
	st := erasuretest.WrapStore(memstore.New().Erasure(), f)
	f.FailAt(2)
	ctx := context.Background()
	_, err1 := st.Holds(ctx, "acme")
	_, err2 := st.Holds(ctx, "acme")
	_, err3 := st.Holds(ctx, "acme")
	fmt.Println(err1 == nil, errors.Is(err2, erasuretest.ErrInjected), err3 == nil, f.Calls(), f.Fired())
	// Output: true true true 3 true
}
