package rollback_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/cloudsnap/rollback"
	_ "github.com/cloudsnap/rollback/tencent" // registers tencent:// for Open
)

// Open names the cloud in one string, from a flag or a config file;
// credentials come from the provider's default chain, never the URL.
func ExampleOpen() {
	ctx := context.Background()
	p, err := rollback.Open(ctx, "tencent://ap-guangzhou?profile=ops")
	if err != nil {
		log.Fatal(err)
	}
	rep, err := rollback.Run(ctx, p, rollback.Request{
		Region: "ap-guangzhou", InstanceID: "lhins-1a2b3c4d", SnapshotID: "lhsnap-1a2b3c4d",
	}, rollback.RunOptions{DryRun: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Plan)
}

// A URL that carries credentials is refused before anything is sent, and
// the error does not quote it.
func ExampleOpen_refused() {
	_, err := rollback.Open(context.Background(), "tencent://AKIDEXAMPLE:secret@ap-guangzhou")
	fmt.Println(errors.Is(err, rollback.ErrInvalidArgument))
	_, err = rollback.Open(context.Background(), "tencent://ap-guangzhou?secret_key=secret")
	fmt.Println(err)
	// Output:
	// true
	// rollback: tencent Open: invalid argument: unknown query parameter "secret_key" (a tencent URL knows allow_forced_stop, allow_unknown_region, allowed_regions, endpoint, insecure_http, international, metadata_endpoint, profile, role_arn, role_duration, role_session_name, static_only, sts_endpoint); a URL never carries credentials: they come from the provider's default chain (the environment, an OIDC token file, the cloud CLI's profile, the instance's role); nothing was sent
}
