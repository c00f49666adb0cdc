package drill

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Compose is deploy/compose.yaml as far as the harness needs it: each
// service's command and environment, with ${VAR} interpolated the way
// `docker compose --env-file deploy/.env` does.
type Compose struct {
	Services map[string]Service
}

// Service is one compose service.
type Service struct {
	Command     []string
	Environment map[string]string
	Volumes     []string
}

// ReadCompose reads a compose file and interpolates it with vars, which
// stand for deploy/.env: a variable not in vars takes the file's default,
// and one the file requires (${VAR:?...}) but vars lacks is an error.
func ReadCompose(path string, vars map[string]string) (Compose, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Compose{}, err
	}
	var raw struct {
		Services map[string]struct {
			Command     []string  `yaml:"command"`
			Environment yaml.Node `yaml:"environment"`
			Volumes     []string  `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return Compose{}, fmt.Errorf("%s: %w", path, err)
	}
	c := Compose{Services: map[string]Service{}}
	for name, s := range raw.Services {
		env := map[string]string{}
		if s.Environment.Kind != 0 {
			// A mapping (with YAML merge keys, which yaml.v3 resolves) or a
			// list of NAME=value.
			var m map[string]any
			if err := s.Environment.Decode(&m); err == nil {
				for k, v := range m {
					if v == nil {
						v = ""
					}
					env[k] = fmt.Sprint(v)
				}
			} else {
				var l []string
				if err := s.Environment.Decode(&l); err != nil {
					return Compose{}, fmt.Errorf("%s: service %s: environment: %w", path, name, err)
				}
				for _, kv := range l {
					k, v, _ := strings.Cut(kv, "=")
					env[k] = v
				}
			}
		}
		for k, v := range env {
			if env[k], err = interpolate(v, vars); err != nil {
				return Compose{}, fmt.Errorf("%s: service %s: %s: %w", path, name, k, err)
			}
		}
		svc := Service{Command: s.Command, Environment: env}
		for _, v := range s.Volumes {
			iv, err := interpolate(v, vars)
			if err != nil {
				return Compose{}, fmt.Errorf("%s: service %s: volume: %w", path, name, err)
			}
			svc.Volumes = append(svc.Volumes, iv)
		}
		c.Services[name] = svc
	}
	return c, nil
}

// Env returns a service's environment, or an error naming the service.
func (c Compose) Env(service string) (map[string]string, error) {
	s, ok := c.Services[service]
	if !ok {
		return nil, fmt.Errorf("compose.yaml has no service %q (it has %s)", service, strings.Join(slices.Sorted(maps.Keys(c.Services)), ", "))
	}
	return maps.Clone(s.Environment), nil
}

// interpolate expands ${VAR}, ${VAR:-default}, ${VAR-default},
// ${VAR:?message}, ${VAR?message}, ${VAR:+alternative}, $VAR and $$ as the
// Compose specification says (defaults may themselves hold ${...}).
func interpolate(s string, vars map[string]string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			out.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			out.WriteByte('$')
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			depth, j := 1, i+2
			for ; j < len(s) && depth > 0; j++ {
				switch s[j] {
				case '{':
					depth++
				case '}':
					depth--
				}
			}
			if depth != 0 {
				return "", fmt.Errorf("unterminated ${ in %q", s)
			}
			v, err := expand(s[i+2:j-1], vars)
			if err != nil {
				return "", err
			}
			out.WriteString(v)
			i = j - 1
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || j > i+1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			out.WriteByte('$')
			continue
		}
		out.WriteString(vars[s[i+1:j]])
		i = j - 1
	}
	return out.String(), nil
}

func expand(expr string, vars map[string]string) (string, error) {
	name, op, arg := expr, "", ""
	for _, o := range []string{":-", ":?", ":+", "-", "?", "+"} {
		if k := strings.Index(expr, o); k > 0 && (op == "" || k < strings.Index(expr, op)) {
			name, op, arg = expr[:k], o, expr[k+len(o):]
		}
	}
	v, set := vars[name]
	word := func() (string, error) { return interpolate(arg, vars) }
	switch op {
	case "":
		return v, nil
	case ":-":
		if v == "" {
			return word()
		}
	case "-":
		if !set {
			return word()
		}
	case ":?", "?":
		if !set || op == ":?" && v == "" {
			msg, _ := word()
			return "", fmt.Errorf("required variable %s is missing: %s", name, msg)
		}
	case ":+":
		if v != "" {
			return word()
		}
		return "", nil
	case "+":
		if set {
			return word()
		}
		return "", nil
	}
	return v, nil
}
