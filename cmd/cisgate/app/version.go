package app

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/cisgate/cisgate/cmd/cisgate/app.Version=v1.2.3".
var Version = "dev"

func init() { subcommands = append(subcommands, newVersionCommand) }

func newVersionCommand(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print cisgate's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			goVersion := "unknown"
			if info, ok := debug.ReadBuildInfo(); ok {
				goVersion = info.GoVersion
			}
			_, err := fmt.Fprintf(streams.Out, "cisgate %s (%s)\n", Version, goVersion)
			return err
		},
	}
}
