package temporalserver

import (
	"testing"

	"go.temporal.io/server/common/dynamicconfig"
)

// TestCachesAreBounded checks the embedded server's caches follow the
// options, not the number of workflows (README, "Performance").
func TestCachesAreBounded(t *testing.T) {
	o, err := Options{PostgresUser: "postgres"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	dc := o.dynamicConfig()
	for key, want := range map[dynamicconfig.Key]any{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():          2048,
		dynamicconfig.EnableHostLevelEventsCache.Key():            true,
		dynamicconfig.EventsHostLevelCacheMaxSizeBytes.Key():      32 << 20,
		dynamicconfig.TimerProcessorSchedulerWorkerCount.Key():    schedulerWorkers,
		dynamicconfig.TransferProcessorSchedulerWorkerCount.Key(): schedulerWorkers,
	} {
		if got := dc.GetValue(key); len(got) != 1 || got[0].Value != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	o.HistoryCacheSize = 500
	if got := o.dynamicConfig().GetValue(dynamicconfig.HistoryCacheHostLevelMaxSize.Key()); got[0].Value != 500 {
		t.Errorf("HistoryCacheSize 500 gives %v", got[0].Value)
	}
}
