package integration

import (
	"errors"
	"strings"
	"testing"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/fsblob"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/processing"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/staffaccess"
)

// Every service and worker has one constructor shape, New(cfg) (or
// retention's NewSchedules, NewSweeper, NewDriver), and refuses a Config
// without its required dependencies with an error that wraps
// gdprkit.ErrInvalid and names the missing field.
func TestEveryConstructorNamesItsMissingDependency(t *testing.T) {
	for name, c := range map[string]struct {
		new   func() error
		field string
	}{
		"authn.New":              {func() error { _, err := authn.New(authn.Config{}); return err }, "Store"},
		"breach.New":             {func() error { _, err := breach.New(breach.Config{}); return err }, "Store"},
		"consent.New":            {func() error { _, err := consent.New(consent.Config{}); return err }, "Store"},
		"erasure.New":            {func() error { _, err := erasure.New(erasure.Config{}); return err }, "Store"},
		"fsblob.New":             {func() error { _, err := fsblob.New(fsblob.Config{}); return err }, "Dir"},
		"ipfilter.New":           {func() error { _, err := ipfilter.New(ipfilter.Config{}); return err }, "Store"},
		"processing.New":         {func() error { _, err := processing.New(processing.Config{}); return err }, "Erasure"},
		"retention.New":          {func() error { _, err := retention.New(retention.Config{}); return err }, "Store"},
		"retention.NewSchedules": {func() error { _, err := retention.NewSchedules(retention.ScheduleConfig{}); return err }, "Store"},
		"retention.NewSweeper":   {func() error { _, err := retention.NewSweeper(retention.SweeperConfig{}); return err }, "Service"},
		"retention.NewDriver":    {func() error { _, err := retention.NewDriver(retention.DriverConfig{}); return err }, "Schedules"},
		"spam.New":               {func() error { _, err := spam.New(spam.Config{}); return err }, "Store"},
		"staffaccess.New":        {func() error { _, err := staffaccess.New(staffaccess.Config{}); return err }, "Store"},
	} {
		err := c.new()
		switch {
		case err == nil:
			t.Errorf("%s(empty Config): no error", name)
		case !strings.Contains(err.Error(), "Config."+c.field):
			t.Errorf("%s(empty Config) = %v; want it to name Config.%s", name, err, c.field)
		}
		if err != nil && !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("%s(empty Config) = %v; want it to wrap gdprkit.ErrInvalid", name, err)
		}
	}
}
