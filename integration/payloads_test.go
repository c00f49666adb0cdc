package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/temporalproto"

	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// TestNoPersonalDataInTemporal works a case full of personal data — a name,
// a prison number, a date of birth, notes of free text, a pause with a
// note — on the real server, then reads the case's whole history there:
// every payload is sealed by the payload codec, and once opened, none holds
// the name, the prison number, the date of birth or any text a person typed.
func TestNoPersonalDataInTemporal(t *testing.T) {
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	off := signIn(t, d, "officer-1")
	body := openBody("W9876XY", "1", "PVI", today)
	body["person"] = map[string]any{"prison_number": "W9876XY", "booking": "1", "given_name": "Wilhelmina",
		"family_name": "Quartermaine", "date_of_birth": "1987-03-14", "local_authority": "Islington"}
	v := openCaseOver(t, off, body, "pii-o1")
	typed := []string{"Talked to Wilhelmina about the flat", "Her sister in Croydon will house her", "Awaiting the Crown Court on the fraud count"}
	steps := "/api/v1/cases/" + v.ID + "/steps/" + resettlement.StepHousingReferral + "/actions"
	off.want(off.act(steps, "pii-a1", map[string]any{"action": "start", "note": typed[0]}), 200, "start with a note")
	off.want(off.act(steps, "pii-a2", map[string]any{"action": "note", "note": typed[1]}), 200, "a note")
	off.want(off.act("/api/v1/cases/"+v.ID+"/pause", "pii-a3", map[string]any{"reason": "other", "note": typed[2]}), 200, "pause")
	off.want(off.act("/api/v1/cases/"+v.ID+"/resume", "pii-a4", map[string]any{}), 200, "resume")

	var h historypb.History
	iter := d.Client.GetWorkflowHistory(ctx, workflows.WorkflowID(v.ID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	sealed, opened := 0, 0
	var plain bytes.Buffer
	err := proxy.VisitPayloads(ctx, &h, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				if string(p.GetMetadata()["encoding"]) != "binary/encrypted" {
					t.Errorf("a payload in clear: %q %s", p.GetMetadata(), p.GetData())
				}
				sealed++
			}
			out, err := d.Codec.Decode(ps)
			for _, p := range out {
				plain.Write(p.GetData())
				plain.WriteByte('\n')
				opened++
			}
			return ps, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sealed < 10 || opened != sealed {
		t.Fatalf("%d payloads sealed, %d opened: the history is not the case's", sealed, opened)
	}
	if !strings.Contains(plain.String(), v.ID) {
		t.Fatal("the opened payloads do not even name the case: the search below would prove nothing")
	}
	forbidden := append([]string{"Wilhelmina", "Quartermaine", "W9876XY", "1987-03-14", "Islington"}, typed...)
	for _, f := range forbidden {
		if strings.Contains(plain.String(), f) {
			t.Errorf("the case's history in Temporal holds %q", f)
		}
	}
}

// TestNoPersonalDataInStoredHistories reads every history the integration
// tests recorded (workflows/testdata/histories, kept decrypted) and finds
// in no payload a prison number, a date of birth of the people those tests
// open cases for, their names, or the free text they typed.
func TestNoPersonalDataInStoredHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "workflows", "testdata", "histories", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no stored histories: %v", err)
	}
	prisonNumber := regexp.MustCompile(`\b[A-Z][0-9]{4}[A-Z]{2}\b`)
	for _, f := range files {
		forbidden := []string{"Sam", "Example", "1990-05-17", "Islington", "Spoke to", "No urgent needs", "on the wing"}
		if !strings.Contains(f, "-plan-1") {
			// Histories of plan 1 were recorded when a pause's reason was
			// free text (now a choice: resettlement.PauseReasons).
			forbidden = append(forbidden, "awaiting court")
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var h historypb.History
		if err := (temporalproto.CustomJSONUnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &h); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := 0
		err = proxy.VisitPayloads(context.Background(), &h, proxy.VisitPayloadsOptions{
			SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				for _, p := range ps {
					n++
					data := p.GetData()
					if !json.Valid(data) && len(data) > 0 {
						t.Errorf("%s: a payload that is not JSON (sealed?): %q", filepath.Base(f), p.GetMetadata())
					}
					if m := prisonNumber.Find(data); m != nil {
						t.Errorf("%s: a prison number %s in a payload", filepath.Base(f), m)
					}
					for _, s := range forbidden {
						if bytes.Contains(data, []byte(s)) {
							t.Errorf("%s: %q in a payload", filepath.Base(f), s)
						}
					}
				}
				return ps, nil
			},
		})
		if err != nil || n < 10 {
			t.Fatalf("%s: %d payloads read (%v)", f, n, err)
		}
	}
}
