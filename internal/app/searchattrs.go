package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/workflows"
)

// RegisterSearchAttributes registers the case workflow's search attributes
// (workflows.SearchAttributes) on the namespace through Temporal's operator
// service, those that are missing only, so `throughgate migrate` can run at
// every deploy. An attribute already registered with another type is an
// error: a search attribute's type cannot change. Temporal Cloud namespaces
// take them in its console instead; the error then says which are missing.
//
// The embedded dev server registers the same attributes itself, as it
// starts (package temporalserver).
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string, logger *slog.Logger) error {
	ops := c.OperatorService()
	resp, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("listing the search attributes of namespace %q: %w", namespace, err)
	}
	want := workflows.SearchAttributes()
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		have, ok := resp.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = want[name]
		case have != want[name]:
			return fmt.Errorf("search attribute %s is registered on namespace %q as %v, not %v; a search attribute's type cannot change", name, namespace, have, want[name])
		}
	}
	if len(missing) == 0 {
		logger.Info("search attributes are registered", "namespace", namespace)
		return nil
	}
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing}); err != nil {
		return fmt.Errorf("registering search attributes %v on namespace %q: %w", slices.Sorted(maps.Keys(missing)), namespace, err)
	}
	// Check rather than trust. The store lists the attributes at once, but
	// the frontend checks a workflow's attributes against its own cache of
	// the namespace, which sees them only at its next refresh (10 s by
	// default): a case opened in between failed ("Namespace throughgate has
	// no mapping defined for search attribute TgEstablishment"). So wait
	// until the store lists them and a query that names them is accepted.
	probe := fmt.Sprintf("%s IS NOT NULL", slices.Sorted(maps.Keys(missing))[0])
	for range 60 {
		resp, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
		if err == nil && hasAll(resp.GetCustomAttributes(), missing) {
			_, err = c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: probe})
		}
		if err == nil {
			logger.Info("search attributes registered", "namespace", namespace, "added", slices.Sorted(maps.Keys(missing)))
			return nil
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.New("the search attributes were added but Temporal's frontend does not accept them yet after a minute; run migrate again")
}

func hasAll(have, want map[string]enumspb.IndexedValueType) bool {
	for name := range want {
		if _, ok := have[name]; !ok {
			return false
		}
	}
	return true
}
