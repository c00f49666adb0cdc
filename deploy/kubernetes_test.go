package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/throughgate/throughgate/internal/config"
)

// The user and group of distroless's nonroot image (deploy/Dockerfile).
const imageUser = 65532

// kustomization is the part of kustomize's Kustomization the manifests
// use; decoding it strictly rejects anything else.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
	} `json:"labels"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// manifests is every object in deploy/kubernetes, decoded strictly.
type manifests struct {
	deployments map[string]*appsv1.Deployment
	jobs        map[string]*batchv1.Job
	services    map[string]*corev1.Service
	pdbs        map[string]*policyv1.PodDisruptionBudget
	policies    map[string]*networkingv1.NetworkPolicy
	configMaps  map[string]*corev1.ConfigMap
	comments    string // every comment line, for the documented commands
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func loadManifests(t *testing.T) (*manifests, kustomization) {
	t.Helper()
	var k kustomization
	b, err := os.ReadFile("kubernetes/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml is %s %s", k.APIVersion, k.Kind)
	}
	files, _ := filepath.Glob("kubernetes/*.yaml")
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" && !slices.Contains(k.Resources, base) {
			t.Errorf("%s is not in kustomization.yaml's resources", base)
		}
	}
	m := &manifests{
		deployments: map[string]*appsv1.Deployment{},
		jobs:        map[string]*batchv1.Job{},
		services:    map[string]*corev1.Service{},
		pdbs:        map[string]*policyv1.PodDisruptionBudget{},
		policies:    map[string]*networkingv1.NetworkPolicy{},
		configMaps:  map[string]*corev1.ConfigMap{},
	}
	var comments strings.Builder
	for _, res := range k.Resources {
		b, err := os.ReadFile(filepath.Join("kubernetes", res))
		if err != nil {
			t.Fatalf("kustomization.yaml lists %s: %v", res, err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if l := strings.TrimSpace(line); strings.HasPrefix(l, "#") {
				comments.WriteString(strings.TrimSpace(strings.TrimPrefix(l, "#")) + "\n")
			}
		}
		for i, d := range docSeparator.Split(string(b), -1) {
			if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")) == "" {
				continue
			}
			where := fmt.Sprintf("%s document %d", res, i+1)
			if err := m.add([]byte(d)); err != nil {
				t.Errorf("%s: %v", where, err)
			}
		}
	}
	m.comments = comments.String()
	return m, k
}

// add decodes one document into its API type, rejecting unknown and
// duplicate fields, and files it by name.
func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var obj interface{ GetName() string }
	var file func()
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		o := &appsv1.Deployment{}
		obj, file = o, func() { m.deployments[o.Name] = o }
	case "batch/v1 Job":
		o := &batchv1.Job{}
		obj, file = o, func() { m.jobs[o.Name] = o }
	case "v1 Service":
		o := &corev1.Service{}
		obj, file = o, func() { m.services[o.Name] = o }
	case "policy/v1 PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		obj, file = o, func() { m.pdbs[o.Name] = o }
	case "networking.k8s.io/v1 NetworkPolicy":
		o := &networkingv1.NetworkPolicy{}
		obj, file = o, func() { m.policies[o.Name] = o }
	case "v1 ConfigMap":
		o := &corev1.ConfigMap{}
		obj, file = o, func() { m.configMaps[o.Name] = o }
	case "v1 Secret":
		return fmt.Errorf("a Secret in the manifests: secrets are created outside them (kubectl create secret)")
	default:
		return fmt.Errorf("unexpected %s %s", tm.APIVersion, tm.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return fmt.Errorf("%s: %w", tm.Kind, err)
	}
	if obj.GetName() == "" {
		return fmt.Errorf("%s without a name", tm.Kind)
	}
	if ns := obj.(metav1.Object).GetNamespace(); ns != "" {
		return fmt.Errorf("%s %s names namespace %q: the manifests go in whichever namespace they are applied to", tm.Kind, obj.GetName(), ns)
	}
	file()
	return nil
}

// podSpecs is every pod template, by the name of its workload.
func (m *manifests) podSpecs() map[string]*corev1.PodTemplateSpec {
	out := map[string]*corev1.PodTemplateSpec{}
	for n, d := range m.deployments {
		out["Deployment "+n] = &d.Spec.Template
	}
	for n, j := range m.jobs {
		out["Job "+n] = &j.Spec.Template
	}
	return out
}

func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	m, _ := loadManifests(t)
	if len(m.deployments) == 0 {
		t.Fatal("no Deployments")
	}
	// Strict decoding is what catches a misplaced field.
	bad := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers: [{name: c, image: i, readinessProbe: {path: /healthz}}]\n")
	if err := (&manifests{deployments: map[string]*appsv1.Deployment{}}).add(bad); err == nil {
		t.Error("a probe's path outside httpGet was accepted")
	}
}

func TestKubernetesWorkloads(t *testing.T) {
	m, k := loadManifests(t)
	api, worker := m.deployments["throughgate-api"], m.deployments["throughgate-worker"]
	if api == nil || worker == nil {
		t.Fatalf("want Deployments throughgate-api and throughgate-worker, have %v", keys(m.deployments))
	}
	for _, d := range []*appsv1.Deployment{api, worker} {
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("%s: replicas %v, want 2", d.Name, d.Spec.Replicas)
		}
		if d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
			t.Errorf("%s: a rollout must keep every old pod until a new one is ready (maxUnavailable 0)", d.Name)
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: selector %v does not match its pods' labels %v", d.Name, d.Spec.Selector, d.Spec.Template.Labels)
		}
	}
	// migrate runs before the API and the workers start, in every pod.
	for _, d := range []*appsv1.Deployment{api, worker} {
		ic := d.Spec.Template.Spec.InitContainers
		if len(ic) != 1 || !slices.Equal(ic[0].Args, []string{"migrate"}) {
			t.Errorf("%s: want one init container running `migrate`, have %v", d.Name, ic)
		}
	}
	if got := api.Spec.Template.Spec.Containers[0].Args; !slices.Equal(got, []string{"api"}) {
		t.Errorf("api runs %v", got)
	}
	if got := worker.Spec.Template.Spec.Containers[0].Args; !slices.Equal(got, []string{"worker"}) {
		t.Errorf("worker runs %v", got)
	}
	// The image is the placeholder kustomize's images: replaces.
	var imageNames []string
	for _, im := range k.Images {
		imageNames = append(imageNames, im.Name)
		if im.NewName == "" || im.NewTag == "" {
			t.Errorf("kustomization.yaml images: %s needs newName and newTag", im.Name)
		}
	}
	for name, pod := range m.podSpecs() {
		for _, c := range allContainers(&pod.Spec) {
			if !slices.Contains(imageNames, c.Image) {
				t.Errorf("%s container %s: image %q is not one kustomization.yaml's images: sets", name, c.Name, c.Image)
			}
			if len(c.Args) > 0 {
				checkSubcommand(t, name, c.Args[0])
			}
		}
	}
}

func TestKubernetesServiceAndDisruptionBudgets(t *testing.T) {
	m, _ := loadManifests(t)
	svc := m.services["throughgate-api"]
	if svc == nil {
		t.Fatalf("no Service throughgate-api, have %v", keys(m.services))
	}
	api := m.deployments["throughgate-api"]
	if !labels.Set(svc.Spec.Selector).AsSelector().Matches(labels.Set(api.Spec.Template.Labels)) {
		t.Errorf("Service selector %v does not select the API's pods", svc.Spec.Selector)
	}
	for _, p := range svc.Spec.Ports {
		if containerPort(&api.Spec.Template.Spec.Containers[0], p.TargetPort) == 0 {
			t.Errorf("Service port %s targets %s, which the api container does not expose", p.Name, p.TargetPort.String())
		}
	}
	for name, d := range m.deployments {
		var budget *policyv1.PodDisruptionBudget
		for _, p := range m.pdbs {
			if sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector); err == nil && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				budget = p
			}
		}
		switch {
		case budget == nil:
			t.Errorf("%s: no PodDisruptionBudget selects its pods", name)
		case budget.Spec.MinAvailable == nil && budget.Spec.MaxUnavailable == nil:
			t.Errorf("%s: its budget sets neither minAvailable nor maxUnavailable", budget.Name)
		case budget.Spec.MinAvailable != nil && budget.Spec.MinAvailable.IntValue() >= int(*d.Spec.Replicas):
			t.Errorf("%s: minAvailable %s would block every node drain", budget.Name, budget.Spec.MinAvailable.String())
		}
	}
}

// podSecurityProblems lists what a pod template lacks of the security every
// Throughgate pod must have.
func podSecurityProblems(pod *corev1.PodSpec) []string {
	var p []string
	sc := pod.SecurityContext
	if sc == nil {
		return []string{"no pod securityContext"}
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		p = append(p, "pod: runAsNonRoot is not true")
	}
	for field, v := range map[string]*int64{"runAsUser": sc.RunAsUser, "runAsGroup": sc.RunAsGroup, "fsGroup": sc.FSGroup} {
		if v == nil || *v != imageUser {
			p = append(p, fmt.Sprintf("pod: %s is not %d", field, imageUser))
		}
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		p = append(p, "pod: seccompProfile is not RuntimeDefault")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		p = append(p, "pod: the service account token is mounted (automountServiceAccountToken: false)")
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		p = append(p, "pod: shares a host namespace")
	}
	for _, c := range allContainers(pod) {
		csc := c.SecurityContext
		if csc == nil {
			p = append(p, c.Name+": no securityContext")
			continue
		}
		if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
			p = append(p, c.Name+": readOnlyRootFilesystem is not true")
		}
		if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
			p = append(p, c.Name+": allowPrivilegeEscalation is not false")
		}
		if csc.Privileged != nil && *csc.Privileged {
			p = append(p, c.Name+": privileged")
		}
		if csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") || len(csc.Capabilities.Add) > 0 {
			p = append(p, c.Name+": capabilities do not drop ALL (and add none)")
		}
		if csc.RunAsNonRoot != nil && !*csc.RunAsNonRoot || csc.RunAsUser != nil && *csc.RunAsUser == 0 {
			p = append(p, c.Name+": may run as root")
		}
		if csc.SeccompProfile != nil && csc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			p = append(p, c.Name+": overrides the seccomp profile")
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				p = append(p, fmt.Sprintf("%s: no %s request", c.Name, r))
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				p = append(p, fmt.Sprintf("%s: no %s limit", c.Name, r))
			}
		}
	}
	return p
}

func TestKubernetesPodSecurity(t *testing.T) {
	m, _ := loadManifests(t)
	pods := m.podSpecs()
	if len(pods) == 0 {
		t.Fatal("no pod templates")
	}
	for name, pod := range pods {
		for _, problem := range podSecurityProblems(&pod.Spec) {
			t.Errorf("%s: %s", name, problem)
		}
	}
	// The check fails a pod that lacks any one of them.
	weaken := map[string]func(*corev1.PodSpec){
		"writable root": func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.ReadOnlyRootFilesystem = ptr(false) },
		"escalation":    func(p *corev1.PodSpec) { p.InitContainers[0].SecurityContext.AllowPrivilegeEscalation = nil },
		"capabilities":  func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.Capabilities.Drop = nil },
		"added capability": func(p *corev1.PodSpec) {
			p.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		},
		"root user":         func(p *corev1.PodSpec) { p.SecurityContext.RunAsUser = ptr(int64(0)) },
		"no fsGroup":        func(p *corev1.PodSpec) { p.SecurityContext.FSGroup = nil },
		"unconfined":        func(p *corev1.PodSpec) { p.SecurityContext.SeccompProfile = nil },
		"runAsNonRoot off":  func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.RunAsNonRoot = ptr(false) },
		"no memory limit":   func(p *corev1.PodSpec) { delete(p.Containers[0].Resources.Limits, corev1.ResourceMemory) },
		"token mounted":     func(p *corev1.PodSpec) { p.AutomountServiceAccountToken = nil },
		"privileged":        func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.Privileged = ptr(true) },
		"no securityContxt": func(p *corev1.PodSpec) { p.InitContainers[0].SecurityContext = nil },
	}
	for what, fn := range weaken {
		fresh, _ := loadManifests(t)
		pod := fresh.deployments["throughgate-api"].Spec.Template.Spec.DeepCopy()
		fn(pod)
		if len(podSecurityProblems(pod)) == 0 {
			t.Errorf("%s: the security check passed it", what)
		}
	}
}

func TestKubernetesProbes(t *testing.T) {
	m, _ := loadManifests(t)
	listen := map[string]string{"throughgate-api": "HTTP_ADDR", "throughgate-worker": "METRICS_ADDR"}
	for name, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			addrVar, ok := listen[name]
			if !ok {
				t.Errorf("%s: which setting is its listen address?", name)
				continue
			}
			_, port, _ := strings.Cut(envValue(&c, addrVar), ":")
			for kind, pr := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
				if pr == nil || pr.HTTPGet == nil {
					t.Errorf("%s/%s: no HTTP %s probe", name, c.Name, kind)
					continue
				}
				if pr.HTTPGet.Path != "/healthz" {
					t.Errorf("%s/%s: %s probe asks %s; it must check the process itself, /healthz", name, c.Name, kind, pr.HTTPGet.Path)
				}
				got := containerPort(&c, pr.HTTPGet.Port)
				if got == 0 || fmt.Sprint(got) != port {
					t.Errorf("%s/%s: %s probe on port %s (%d), but %s=%q", name, c.Name, kind, pr.HTTPGet.Port.String(), got, addrVar, envValue(&c, addrVar))
				}
			}
			if c.LivenessProbe != nil && c.ReadinessProbe != nil &&
				c.LivenessProbe.FailureThreshold*c.LivenessProbe.PeriodSeconds <= c.ReadinessProbe.FailureThreshold*c.ReadinessProbe.PeriodSeconds {
				t.Errorf("%s/%s: liveness gives up no later than readiness: a slow pod is restarted before it is rested", name, c.Name)
			}
		}
	}
}

func TestKubernetesNetworkPolicies(t *testing.T) {
	m, _ := loadManifests(t)
	want := map[string]struct {
		in  []int32
		out []string
	}{
		"throughgate-api":    {in: []int32{8080, 9090}, out: []string{"UDP/53", "TCP/53", "TCP/5432", "TCP/7233", "TCP/587"}},
		"throughgate-worker": {in: []int32{9090}, out: []string{"UDP/53", "TCP/53", "TCP/5432", "TCP/7233", "TCP/587"}},
	}
	for name, d := range m.deployments {
		var pol *networkingv1.NetworkPolicy
		for _, p := range m.policies {
			if sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector); err == nil && !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				pol = p
			}
		}
		if pol == nil {
			t.Errorf("%s: no NetworkPolicy selects its pods", name)
			continue
		}
		if !slices.Contains(pol.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(pol.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			t.Errorf("%s: policy types %v, want Ingress and Egress", pol.Name, pol.Spec.PolicyTypes)
		}
		var in []int32
		for _, r := range pol.Spec.Ingress {
			for _, p := range r.Ports {
				in = append(in, containerPort(&d.Spec.Template.Spec.Containers[0], *p.Port))
			}
		}
		out := map[string]bool{}
		for _, r := range pol.Spec.Egress {
			for _, p := range r.Ports {
				proto := corev1.ProtocolTCP
				if p.Protocol != nil {
					proto = *p.Protocol
				}
				out[fmt.Sprintf("%s/%s", proto, p.Port.String())] = true
			}
		}
		w := want[name]
		for _, port := range w.in {
			if !slices.Contains(in, port) {
				t.Errorf("%s: ingress does not allow port %d", pol.Name, port)
			}
		}
		if len(in) != len(w.in) {
			t.Errorf("%s: ingress allows %v, want only %v", pol.Name, in, w.in)
		}
		for _, o := range w.out {
			if !out[o] {
				t.Errorf("%s: egress does not allow %s", pol.Name, o)
			}
		}
	}
}

func TestKubernetesSettingsAndSecrets(t *testing.T) {
	m, _ := loadManifests(t)
	for name, cm := range m.configMaps {
		for k := range cm.Data {
			checkSetting(t, "ConfigMap "+name, k)
		}
	}
	createCmd := regexp.MustCompile(`kubectl -n NAMESPACE create secret generic ([a-z0-9-]+)`)
	documented := map[string]bool{}
	for _, g := range createCmd.FindAllStringSubmatch(m.comments, -1) {
		documented[g[1]] = true
	}
	for name, pod := range m.podSpecs() {
		mounts := map[string]string{}
		for _, v := range pod.Spec.Volumes {
			if v.Secret != nil {
				if !documented[v.Secret.SecretName] {
					t.Errorf("%s: volume %s uses Secret %s, whose kubectl create secret command no comment shows", name, v.Name, v.Secret.SecretName)
				}
			}
		}
		for _, c := range allContainers(&pod.Spec) {
			for _, vm := range c.VolumeMounts {
				mounts[vm.MountPath] = vm.Name
			}
			for _, e := range c.Env {
				checkSetting(t, name+"/"+c.Name, e.Name)
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					ref := e.ValueFrom.SecretKeyRef
					if !documented[ref.Name] {
						t.Errorf("%s/%s: %s comes from Secret %s, whose kubectl create secret command no comment shows", name, c.Name, e.Name, ref.Name)
					}
					if ref.Key != e.Name {
						t.Errorf("%s/%s: %s comes from key %s: name the key as the setting", name, c.Name, e.Name, ref.Key)
					}
				}
				if e.Value != "" && isSecretSetting(e.Name) {
					t.Errorf("%s/%s: %s is a secret, set in the manifest", name, c.Name, e.Name)
				}
			}
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil && m.configMaps[ef.ConfigMapRef.Name] == nil {
					t.Errorf("%s/%s: no ConfigMap %s", name, c.Name, ef.ConfigMapRef.Name)
				}
				if ef.SecretRef != nil && !documented[ef.SecretRef.Name] {
					t.Errorf("%s/%s: Secret %s has no documented kubectl create secret command", name, c.Name, ef.SecretRef.Name)
				}
			}
		}
		// Every file a setting points at is in a mounted volume.
		for _, cm := range m.configMaps {
			for k, v := range cm.Data {
				if !strings.HasSuffix(k, "_PATH") {
					continue
				}
				if _, ok := mounts[filepath.Dir(v)]; !ok {
					t.Errorf("%s: %s=%s, but nothing is mounted at %s", name, k, v, filepath.Dir(v))
				}
			}
		}
	}
	for name, cm := range m.configMaps {
		for k := range cm.Data {
			if isSecretSetting(k) {
				t.Errorf("ConfigMap %s holds %s, a secret", name, k)
			}
		}
	}
}

// Every Throughgate container has what its command needs of the two
// database roles and the keys, from the Secret: migrate the owner's
// MIGRATE_DATABASE_URL (and no other container has it), api and worker
// the same PAYLOAD_KEYS, the api EVENT_SOURCES.
func TestKubernetesRolesAndKeys(t *testing.T) {
	m, _ := loadManifests(t)
	want := map[string][]string{
		"migrate": {"DATABASE_URL", "MIGRATE_DATABASE_URL"},
		"api":     {"DATABASE_URL", "PAYLOAD_KEYS", "EVENT_SOURCES"},
		"worker":  {"DATABASE_URL", "PAYLOAD_KEYS"},
	}
	seen := map[string]bool{}
	for name, pod := range m.podSpecs() {
		for _, c := range allContainers(&pod.Spec) {
			if len(c.Args) == 0 {
				continue
			}
			cmd := c.Args[0]
			seen[cmd] = true
			from := map[string]string{}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					from[e.Name] = e.ValueFrom.SecretKeyRef.Name
				}
			}
			for _, k := range want[cmd] {
				if from[k] != "throughgate" {
					t.Errorf("%s/%s: %s is not taken from the Secret throughgate", name, c.Name, k)
				}
			}
			if _, ok := from["MIGRATE_DATABASE_URL"]; ok && cmd != "migrate" {
				t.Errorf("%s/%s (%s) has the owner's MIGRATE_DATABASE_URL", name, c.Name, cmd)
			}
		}
	}
	for cmd := range want {
		if !seen[cmd] {
			t.Errorf("no container runs %s", cmd)
		}
	}
}

// isSecretSetting reports whether a setting is marked secret in
// internal/config, or is one of the kinds that always are.
func isSecretSetting(name string) bool {
	for _, s := range config.Settings {
		if s.Env == name {
			return s.Secret
		}
	}
	return strings.HasSuffix(name, "_PASSWORD") || strings.HasSuffix(name, "_SECRET") || strings.HasSuffix(name, "_API_KEY")
}

func ptr[T any](v T) *T { return &v }

func allContainers(p *corev1.PodSpec) []corev1.Container {
	return append(slices.Clone(p.InitContainers), p.Containers...)
}

func containerPort(c *corev1.Container, port intstr.IntOrString) int32 {
	for _, p := range c.Ports {
		if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			return p.ContainerPort
		}
	}
	return 0
}

func envValue(c *corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
