"""Child process for the crash harness: does one kind of work in a loop and
prints "ACK <what>" after each change has been committed, so the parent knows
the last change the user was told had happened."""

import json
import sys
from pathlib import Path

from msptui.incidents import add_evidence, set_item
from msptui.models import Client
from msptui.recordfile import import_file
from msptui.store import Store


def main() -> None:
    db, op, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    store = Store.open(db)
    n = 0
    while True:
        n += 1
        if op == "import":
            path = Path(arg) / f"batch-{n}.json"
            clients = [Client(id=f"b{n}-{i}", name=f"Batch {n} #{i}", engagement="managed", home_tz="UTC").model_dump(mode="json")
                       for i in range(500)]
            path.write_text(json.dumps({"format": "msptui", "version": 1, "clients": clients}))
            import_file(store, path)
            print(f"ACK clients b{n}-499", flush=True)
        elif op == "evidence":
            incident, file = arg.split("|")
            ev = add_evidence(store, incident, file, name=f"image-{n}")
            print(f"ACK evidence {ev.id}", flush=True)
        elif op == "checklist":
            incident, step = arg.split("|")
            item = set_item(store, incident, step, note=f"tick {n}")
            print(f"ACK note {item.id} tick {n}", flush=True)
        elif op == "export":
            from msptui.export import export_in_child

            path = export_in_child(Path(db), arg.split("|")[0], out_dir=Path(arg.split("|")[1]))
            print(f"ACK export {path}", flush=True)


if __name__ == "__main__":
    main()
