"""Check reporting shared by the Python client scripts: one line per check, `ok: LABEL CHECK` or
`FAIL: LABEL CHECK: why`, which run.sh counts. A script keeps going after a failure and exits 0."""
import os
import traceback


class Checks:
    def __init__(self, label):
        self.label = label

    def ok(self, name):
        print(f"ok: {self.label} {name}", flush=True)

    def fail(self, name, why):
        why = " ".join(str(why).split())  # one line
        print(f"FAIL: {self.label} {name}: {why}", flush=True)

    def check(self, name, fn):
        """Runs fn(); an exception, False or a non-empty string (why) is a failure. Returns fn's value or None."""
        try:
            res = fn()
        except Exception as e:  # noqa: BLE001 - any client error is a failed check
            self.fail(name, f"{type(e).__name__}: {e}")
            if os.environ.get("CLIENTS_VERBOSE"):
                traceback.print_exc()
            return None
        if res is False or (isinstance(res, str) and res):
            self.fail(name, res if isinstance(res, str) else "check returned false")
            return None
        self.ok(name)
        return res


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)
