package retention_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// Every constructor takes one Config; a missing required dependency is an
// error wrapping gdprkit.ErrInvalid that names the field.
func TestConstructorsNameTheMissingDependency(t *testing.T) {
	_, err := retention.New(retention.Config{})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	require.ErrorContains(t, err, "Store")

	_, err = retention.NewSweeper(retention.SweeperConfig{Owner: "a"})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	require.ErrorContains(t, err, "Service")

	_, err = retention.NewDriver(retention.DriverConfig{Batch: 3})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	require.ErrorContains(t, err, "Schedules")

	svc, err := retention.New(retention.Config{Store: memstore.New().Retention()})
	require.NoError(t, err)
	_, err = retention.NewSweeper(retention.SweeperConfig{Service: svc, Batch: -1})
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "negative batch")
	sw, err := retention.NewSweeper(retention.SweeperConfig{Service: svc})
	require.NoError(t, err)
	require.NotNil(t, sw)
}
