package producer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/tagstream/tagstream/event"
)

// TestModelStoreWriteDenied: a user the server denies publishing to $O.>
// reads the bucket another user wrote, and its Put fails at once with the
// permissions violation instead of waiting for acks until its ctx ends.
// (TestSecureModelStore does the same against a real server with nkeys.)
func TestModelStoreWriteDenied(t *testing.T) {
	t.Parallel()
	tn := newTestNATS(t, func(o *server.Options) {
		o.Users = []*server.User{
			{Username: "trainer", Password: "trainer-pw"},
			{Username: "serving", Password: "serving-pw", Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Deny: []string{"$O.>"}},
			}},
		}
	})
	bucket := "models_denied"
	open := func(user, pw string) *ModelStore {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := OpenModelStore(ctx, Config{URL: tn.url, User: user, Password: pw}, bucket)
		if err != nil {
			t.Fatalf("OpenModelStore as %s: %v", user, err)
		}
		t.Cleanup(s.Close)
		return s
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	obj := event.ModelObject{Lang: "en", Kind: "classifier", Seq: 1, Version: "m.ft1@00000001"}
	if _, err := open("trainer", "trainer-pw").Put(ctx, obj, []byte("weights")); err != nil {
		t.Fatal(err)
	}
	serving := open("serving", "serving-pw")
	if data, _, err := serving.Get(ctx, event.ModelObjectName("en", "classifier", "", 1)); err != nil || string(data) != "weights" {
		t.Fatalf("Get as serving = %q, %v", data, err)
	}
	start := time.Now()
	_, err := serving.Put(ctx, event.ModelObject{Lang: "en", Kind: "classifier", Seq: 2, Version: "forged@00000002"}, []byte("forged"))
	took := time.Since(start)
	if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), "$O."+bucket+".") {
		t.Fatalf("Put as serving = %v, want a permissions violation on $O.%s", err, bucket)
	}
	if took > 5*time.Second {
		t.Errorf("Put took %v to fail, want under 5s", took)
	}
	if list, err := serving.List(ctx); err != nil || len(list) != 1 {
		t.Fatalf("List = %+v, %v: want only the trainer's object", list, err)
	}
}
