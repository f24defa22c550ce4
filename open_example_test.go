package rollback_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/memprovider"
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
	// rollback: tencent Open: invalid argument: unknown query parameter "secret_key" (tencent:// takes allow_forced_stop, allow_unknown_region, allowed_regions, endpoint, insecure_http, international, metadata_endpoint, profile, role_arn, role_duration, role_session_name, static_only, sts_endpoint); a URL never carries credentials: they come from the provider's default chain (the environment, an OIDC token file, the cloud CLI's profile, the instance's role); nothing was sent
}

// mem:// is an in-memory cloud (package memprovider, imported for its
// scheme): a program that takes a URL can be tried with no account.
// servers=1 seeds a stopped server and a ready snapshot of its disk.
func ExampleOpen_memory() {
	ctx := context.Background()
	p, err := rollback.Open(ctx, "mem://?servers=1")
	if err != nil {
		log.Fatal(err)
	}
	rep, err := rollback.Run(ctx, p, rollback.Request{
		Region: memprovider.DefaultRegion, InstanceID: "ins-000001", SnapshotID: "snap-000002",
		OperationKey: "incident-4711", // the operation's token derives from it
	}, rollback.RunOptions{DryRun: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, step := range rep.Plan {
		fmt.Println(step)
	}
	// Output:
	// roll back disk disk-000001 of instance ins-000001 to snapshot snap-000002 (operation rb-421839ab9fbd2a4b3fe77b89c4f27d886b8252f7)
	// wait until the rollback has finished
}
