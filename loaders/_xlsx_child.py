"""Child process that reads an untrusted workbook's first sheet under an address-space limit
(run by loaders/xlsx_guard.read_sheet; imports nothing of the project).

argv: workbook, output Arrow IPC file, n_rows ("-" for all), address-space limit in bytes.
Exit codes: 0 read, 3 not a readable workbook, 4 out of memory, 5 output not written.
"""

import resource
import sys


def main(argv: list[str]) -> int:
    source, out, n_rows, memory = argv
    limit = int(memory)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort leaves no core file behind
    try:
        import fastexcel
        import pyarrow as pa
        import pyarrow.ipc
    except MemoryError:
        return 4
    try:
        sheet = fastexcel.read_excel(source).load_sheet(
            0, header_row=None, n_rows=None if n_rows == "-" else int(n_rows), dtypes="string")
        batch = sheet.to_arrow()
    except MemoryError:
        return 4
    except Exception as exc:  # noqa: BLE001 - any parse failure: not a readable workbook
        print(str(exc)[:300], file=sys.stderr)
        return 3
    try:
        with pa.OSFile(out, "wb") as sink, pa.ipc.new_file(sink, batch.schema) as writer:
            writer.write_batch(batch)
    except MemoryError:
        return 4
    except OSError as exc:
        print(str(exc)[:300], file=sys.stderr)
        return 5
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
