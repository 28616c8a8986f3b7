package moto

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// Security Hub's REST paths (the API reference's request syntax).
const (
	PathBatchImportFindings = "/findings/import"
	PathGetFindings         = "/findings"
	PathBatchUpdateFindings = "/findings/batchupdate"
)

// SecurityHubOverlay serves the Security Hub API in front of moto for what moto 5.2.1 leaves out
// of the service, as the Security Hub user guide documents it, and injects faults:
//
//   - BatchUpdateFindings (PATCH /findings/batchupdate), which moto does not implement: it sets
//     the workflow of the findings named, in moto, and answers ProcessedFindings and
//     UnprocessedFindings;
//   - BatchImportFindings of a finding that exists does not change its Workflow ("After a
//     finding is created, BatchImportFindings cannot be used to update ... Workflow"), which
//     moto's import overwrites; and it resets the workflow from NOTIFIED or RESOLVED to NEW
//     when Compliance.Status changes from PASSED to another status or RecordState from ARCHIVED
//     to ACTIVE (the user guide's "Setting the workflow status of findings");
//   - Fail answers the next calls of a path with an AWS error (throttling, access denied).
//
// moto's GetFindings ignores Filters and answers every finding of the account and region.
// Everything else, STS included, goes to moto. Point AWS_ENDPOINT_URL at URL.
type SecurityHubOverlay struct {
	URL string

	moto  string
	proxy *httputil.ReverseProxy

	mu     sync.Mutex
	faults map[string][]Fault
	calls  map[string]int
	// batches are the sizes of the BatchImportFindings calls moto answered, in order.
	batches []int
	// imported are the findings of those calls as sent, in order (JSON objects).
	imported []map[string]any
}

// Fault is an error the overlay answers instead of moto.
type Fault struct {
	Status int
	Code   string
}

// Throttled is Security Hub's throttling answer (429 TooManyRequestsException).
var Throttled = Fault{Status: http.StatusTooManyRequests, Code: "TooManyRequestsException"}

// AccessDenied is the answer to a call the IAM policy does not allow.
var AccessDenied = Fault{Status: http.StatusForbidden, Code: "AccessDeniedException"}

// NewSecurityHubOverlay starts the overlay in front of moto for one test.
func NewSecurityHubOverlay(t testing.TB, moto *Server) *SecurityHubOverlay {
	target, err := url.Parse(moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	o := &SecurityHubOverlay{moto: moto.URL, proxy: httputil.NewSingleHostReverseProxy(target), faults: map[string][]Fault{}, calls: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(srv.Close)
	o.URL = srv.URL
	return o
}

// Findings reads every finding moto holds, by Id, with the SDK straight from moto (past the
// overlay, so neither its faults nor its call counts see the read). The credentials are the
// SDK's default chain's (Server.Env).
func (o *SecurityHubOverlay) Findings(ctx context.Context) (map[string]types.AwsSecurityFinding, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithBaseEndpoint(o.moto))
	if err != nil {
		return nil, err
	}
	out := map[string]types.AwsSecurityFinding{}
	pages := securityhub.NewGetFindingsPaginator(securityhub.NewFromConfig(cfg), &securityhub.GetFindingsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range page.Findings {
			out[aws.ToString(f.Id)] = f
		}
	}
	return out, nil
}

// Fail answers the next n calls of path with f.
func (o *SecurityHubOverlay) Fail(path string, n int, f Fault) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for range n {
		o.faults[path] = append(o.faults[path], f)
	}
}

// Clear drops the faults not yet answered.
func (o *SecurityHubOverlay) Clear() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.faults = map[string][]Fault{}
}

// Calls is how many calls of path arrived (faults included).
func (o *SecurityHubOverlay) Calls(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls[path]
}

// Imported are the findings the calls that reached moto sent, in order, as their JSON.
func (o *SecurityHubOverlay) Imported() []map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]map[string]any(nil), o.imported...)
}

// ImportBatches are the sizes of the BatchImportFindings calls that reached moto, in order.
func (o *SecurityHubOverlay) ImportBatches() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]int(nil), o.batches...)
}

func (o *SecurityHubOverlay) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	o.mu.Lock()
	o.calls[path]++
	var fault *Fault
	if fs := o.faults[path]; len(fs) > 0 {
		fault, o.faults[path] = &fs[0], fs[1:]
	}
	o.mu.Unlock()
	if fault != nil {
		writeAWSError(w, fault.Status, fault.Code, "injected by the test's overlay")
		return
	}
	switch {
	case r.Method == http.MethodPost && path == PathBatchImportFindings:
		o.serveImport(w, r)
	case r.Method == http.MethodPatch && path == PathBatchUpdateFindings:
		o.serveBatchUpdate(w, r)
	default:
		o.proxy.ServeHTTP(w, r)
	}
}

// serveImport applies Security Hub's workflow rules to an import, then lets moto import it.
func (o *SecurityHubOverlay) serveImport(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Findings []map[string]any
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeAWSError(w, http.StatusBadRequest, "InvalidInputException", err.Error())
		return
	}
	sent, err := json.Marshal(in.Findings)
	if err != nil {
		writeAWSError(w, http.StatusInternalServerError, "InternalException", err.Error())
		return
	}
	existing, err := o.findings(r.Header)
	if err != nil {
		writeAWSError(w, http.StatusInternalServerError, "InternalException", err.Error())
		return
	}
	for _, f := range in.Findings {
		id, _ := f["Id"].(string)
		old, ok := existing[id]
		if !ok {
			continue
		}
		workflow := nested(old, "Workflow", "Status")
		if workflow == "" {
			workflow = "NEW"
		}
		wasPassed, isPassed := nested(old, "Compliance", "Status") == "PASSED", nested(f, "Compliance", "Status") == "PASSED"
		reactivated := old["RecordState"] == "ARCHIVED" && f["RecordState"] == "ACTIVE"
		if (wasPassed && !isPassed || reactivated) && (workflow == "NOTIFIED" || workflow == "RESOLVED") {
			workflow = "NEW"
		}
		f["Workflow"] = map[string]any{"Status": workflow}
	}
	body, status, err := o.call(r.Header, http.MethodPost, PathBatchImportFindings, map[string]any{"Findings": in.Findings})
	if err != nil {
		writeAWSError(w, http.StatusInternalServerError, "InternalException", err.Error())
		return
	}
	if status == http.StatusOK {
		var asSent []map[string]any
		_ = json.Unmarshal(sent, &asSent)
		o.mu.Lock()
		o.batches = append(o.batches, len(in.Findings))
		o.imported = append(o.imported, asSent...)
		o.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serveBatchUpdate sets the workflow of the findings named (BatchUpdateFindings's Workflow).
func (o *SecurityHubOverlay) serveBatchUpdate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FindingIdentifiers []map[string]string
		Workflow           *struct{ Status string }
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeAWSError(w, http.StatusBadRequest, "InvalidInputException", err.Error())
		return
	}
	existing, err := o.findings(r.Header)
	if err != nil {
		writeAWSError(w, http.StatusInternalServerError, "InternalException", err.Error())
		return
	}
	processed, unprocessed := []map[string]string{}, []map[string]any{}
	var updated []map[string]any
	for _, ident := range in.FindingIdentifiers {
		f, ok := existing[ident["Id"]]
		if !ok || f["ProductArn"] != ident["ProductArn"] {
			unprocessed = append(unprocessed, map[string]any{"FindingIdentifier": ident, "ErrorCode": "FindingNotFound", "ErrorMessage": "Finding Not Found"})
			continue
		}
		if in.Workflow != nil {
			f["Workflow"] = map[string]any{"Status": in.Workflow.Status}
		}
		updated = append(updated, f)
		processed = append(processed, ident)
	}
	if len(updated) > 0 {
		if _, status, err := o.call(r.Header, http.MethodPost, PathBatchImportFindings, map[string]any{"Findings": updated}); err != nil || status != http.StatusOK {
			writeAWSError(w, http.StatusInternalServerError, "InternalException", fmt.Sprint("moto import: ", status, err))
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})
}

// findings reads every finding moto holds for the caller's account and region, by Id.
func (o *SecurityHubOverlay) findings(h http.Header) (map[string]map[string]any, error) {
	all := map[string]map[string]any{}
	token := ""
	for {
		req := map[string]any{"MaxResults": 100}
		if token != "" {
			req["NextToken"] = token
		}
		body, status, err := o.call(h, http.MethodPost, PathGetFindings, req)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("moto GetFindings: %d %s", status, body)
		}
		var page struct {
			Findings  []map[string]any
			NextToken string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, err
		}
		for _, f := range page.Findings {
			id, _ := f["Id"].(string)
			all[id] = f
		}
		if page.NextToken == "" {
			return all, nil
		}
		token = page.NextToken
	}
}

// call sends a request to moto with the caller's headers (moto tells the service, account and
// region from the Authorization header's credential scope and checks no signature).
func (o *SecurityHubOverlay) call(h http.Header, method, path string, body any) ([]byte, int, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequest(method, o.moto+path, bytes.NewReader(data))
	if err != nil {
		return nil, 0, err
	}
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Length", strconv.Itoa(len(data)))
	req.ContentLength = int64(len(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return out, resp.StatusCode, err
}

func nested(m map[string]any, keys ...string) string {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[k]
	}
	s, _ := v.(string)
	return s
}

// writeAWSError answers as a restJson1 AWS service does: the code in X-Amzn-ErrorType and the body.
func writeAWSError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Code": code, "Message": message})
}
