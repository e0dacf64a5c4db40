"""Child process that reads an untrusted workbook's first sheet under an address-space limit
(run by loaders/xlsx_guard.read_sheet; imports nothing of the project).

argv: workbook, output Arrow IPC file, n_rows ("-" for all), address-space limit in bytes,
longest row allowed in bytes (its cells' text together).
Exit codes: 0 read, 3 not a readable workbook, 4 out of memory, 5 output not written, 6 a row
longer than allowed (nothing written).
"""

import resource
import sys


def main(argv: list[str]) -> int:
    source, out, n_rows, memory, max_row_bytes = argv
    limit = int(memory)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort leaves no core file behind
    try:
        import fastexcel
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.ipc
    except MemoryError:
        return 4
    try:
        sheet = fastexcel.read_excel(source).load_sheet(
            # skip_rows=0: leading empty rows are kept, so a row's index is its Excel row number - 1
            0, header_row=None, skip_rows=0, n_rows=None if n_rows == "-" else int(n_rows), dtypes="string")
        batch = sheet.to_arrow()
        row_bytes = None
        for column in batch.columns:
            length = pc.fill_null(pc.binary_length(column.cast(pa.large_string())), 0)
            row_bytes = length if row_bytes is None else pc.add(row_bytes, length)
        if row_bytes is not None and len(row_bytes) and pc.max(row_bytes).as_py() > int(max_row_bytes):
            return 6
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
