package workflows

import (
	"reflect"
	"testing"
)

// The workflows call activities by name and the worker registers them by
// method name, so each name must be a method of the contract, and each
// method must have a name.
func TestActivityNamesAreTheContractsMethods(t *testing.T) {
	names := []string{ActivityRaiseAlarm, ActivityNotifyTransfer, ActivitySaveCase, ActivitySendDigests, ActivityAnonymiseClosedCases}
	contract := reflect.TypeFor[Activities]()
	if len(names) != contract.NumMethod() {
		t.Errorf("%d activity names for %d methods of Activities", len(names), contract.NumMethod())
	}
	for _, n := range names {
		if _, ok := contract.MethodByName(n); !ok {
			t.Errorf("activity %q is not a method of Activities", n)
		}
	}
}
