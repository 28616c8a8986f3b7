// 4.4.1 secrets-in-env: no container takes a Secret as environment variables, through
// env[].valueFrom.secretKeyRef or envFrom[].secretRef; mount it as a file instead.
package policy

import "strconv"

func init() {
	register(&Check{
		Slug:    "secrets-in-env",
		Decides: "no container reads a Secret through env[].valueFrom.secretKeyRef or envFrom[].secretRef",
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			var out []Finding
			VisitContainers(in.Pod, func(c Container) {
				for i, e := range c.Env {
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
						out = append(out, fail(indexed(c.Field("env"), i)+".valueFrom.secretKeyRef",
							c.Describe()+" must not read Secret "+strconv.Quote(e.ValueFrom.SecretKeyRef.Name)+
								" into env "+strconv.Quote(e.Name)+"; mount it as a volume"))
					}
				}
				for i, e := range c.EnvFrom {
					if e.SecretRef != nil {
						out = append(out, fail(indexed(c.Field("envFrom"), i)+".secretRef",
							c.Describe()+" must not read Secret "+strconv.Quote(e.SecretRef.Name)+" through envFrom; mount it as a volume"))
					}
				}
			})
			return out
		},
	})
}
