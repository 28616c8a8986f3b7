// Command pause is the test cluster's pod sandbox image: it holds the Pod's namespaces and
// sleeps until containerd stops it (SIGTERM, or SIGINT when run by hand). The image is built
// locally like cisgate's (make pause-image), so the cluster needs no registry.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
