package policy

// secrets-in-env: no container takes a Secret as environment variables, through
// env[].valueFrom.secretKeyRef or envFrom[].secretRef; mount it as a file instead.

func init() {
	register(containerCheck("secrets-in-env",
		"no container reads a Secret through env[].valueFrom.secretKeyRef or envFrom[].secretRef", allPods, secretsInEnv))
}

func secretsInEnv(_ *Input, c Container) []Finding {
	var out []Finding
	for i, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			out = append(out, fail(indexed(c.Field("env"), i)+".valueFrom.secretKeyRef",
				c.Describe()+" must not read Secret "+quote(e.ValueFrom.SecretKeyRef.Name)+" into env "+quote(e.Name)+"; mount it as a volume"))
		}
	}
	for i, e := range c.EnvFrom {
		if e.SecretRef != nil {
			out = append(out, fail(indexed(c.Field("envFrom"), i)+".secretRef",
				c.Describe()+" must not read Secret "+quote(e.SecretRef.Name)+" through envFrom; mount it as a volume"))
		}
	}
	return out
}
