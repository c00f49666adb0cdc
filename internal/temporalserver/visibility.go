package temporalserver

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/log/tag"
	temporalschema "go.temporal.io/server/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// pgVisibilitySchemaFile is the visibility schema the store's versioned
// updates arrive at: the definitions of the indexes trimVisibilityIndexes
// keeps or restores.
const pgVisibilitySchemaFile = pgVisibilitySchemaDir + "/schema.sql"

// keptVisibilityIndexes are the indexes of the visibility table's own
// columns that stay: the ones behind listing a namespace's workflows (by
// time, id, type, status, task queue), the schedules' namespace division
// and the change versions. Custom columns keep theirs when a search
// attribute is mapped to them.
var keptVisibilityIndexes = []string{
	"default_idx", "by_execution_time", "by_workflow_id", "by_workflow_type", "by_status", "by_task_queue",
	"by_temporal_change_version", "by_temporal_namespace_division",
}

// customIndexRe names the index of each column Temporal keeps for custom
// search attributes (Keyword01–10, Int01–03, Text01–03 and so on).
var customIndexRe = regexp.MustCompile(`^by_(bool|datetime|double|int|keyword|keyword_list|text)_\d\d$`)

// indexRe finds each index of the visibility table: its name, its first
// column after the namespace and the whole statement.
var indexRe = regexp.MustCompile(`(?m)^CREATE INDEX (\w+)\s+ON executions_visibility (?:USING GIN )?\(namespace_id, \(?(\w+)[^;]*;`)

// visibilityIndex is one index in the visibility schema.
type visibilityIndex struct{ name, column, create string }

// custom reports whether the index is a custom search attribute column's.
func (ix visibilityIndex) custom() bool { return customIndexRe.MatchString(ix.name) }

// visibilityIndexes reads them from the schema Temporal ships.
func visibilityIndexes() ([]visibilityIndex, error) {
	b, err := fs.ReadFile(temporalschema.Assets(), pgVisibilitySchemaFile)
	if err != nil {
		return nil, err
	}
	var out []visibilityIndex
	for _, m := range indexRe.FindAllStringSubmatch(string(b), -1) {
		out = append(out, visibilityIndex{name: m[1], column: m[2],
			create: strings.Replace(m[0], "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no index in %s", pgVisibilitySchemaFile)
	}
	return out, nil
}

// trimVisibilityIndexes drops the visibility table's indexes that nothing
// here queries by, and makes sure the others exist. Temporal's PostgreSQL
// schema has 73, one for each column a query could name, and every
// visibility write — a start, the build id its first workflow task
// records, an upsert of a search attribute, a close — writes an entry in
// each, with two identifiers of 64 characters in every entry: at 30,000
// cases that was about 22 KB a workflow, most of the PostgreSQL data of
// `throughgate dev`; keeping 15 took an import's processor time from 26.6
// to 20.4 ms a case (README, Performance, with a smaller WAL). What stays
// is keptVisibilityIndexes and the custom columns a search attribute is
// mapped to (the cases use seven of 28); a column mapped later (a new
// search attribute) gets its index back at the next start. A query by a
// column without an index is still answered, only by reading the table.
// Only for the embedded server's own PostgreSQL store: a production
// cluster's schema is its operator's.
//
// TestTrimmedIndexesAreOnlyCreated checks that no versioned update of the
// schema names a dropped index except to create it, so that a later
// server's updates still apply to a store without them.
func (s *Server) trimVisibilityIndexes(ctx context.Context) error {
	if s.opts.Store != StorePostgres {
		return nil
	}
	indexes, err := visibilityIndexes()
	if err != nil {
		return err
	}
	mapped := map[string]bool{}
	var next []byte
	for {
		resp, err := s.client.WorkflowService().ListNamespaces(ctx, &workflowservice.ListNamespacesRequest{PageSize: 100, NextPageToken: next})
		if err != nil {
			return fmt.Errorf("listing namespaces: %w", err)
		}
		for _, ns := range resp.GetNamespaces() {
			for column := range ns.GetConfig().GetCustomSearchAttributeAliases() {
				mapped[strings.ToLower(column)] = true
			}
		}
		if next = resp.GetNextPageToken(); len(next) == 0 {
			break
		}
	}
	rec := &errorRecorder{Logger: s.logger}
	conn, err := sqltool.NewConnection(s.opts.pgSQL(s.opts.VisibilityDatabaseName, 1), rec)
	if err != nil {
		return rec.explain(err)
	}
	defer conn.Close()
	var kept []string
	for _, ix := range indexes {
		stmt := "DROP INDEX IF EXISTS " + ix.name
		if slices.Contains(keptVisibilityIndexes, ix.name) || ix.custom() && mapped[strings.ToLower(ix.column)] {
			stmt = ix.create
			kept = append(kept, ix.name)
		}
		if err := conn.Exec(stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, rec.explain(err))
		}
	}
	s.logger.Info("visibility indexes", tag.NewStringsTag("kept", kept), tag.NewInt("dropped", len(indexes)-len(kept)))
	return nil
}
