"""The counts every dossier KPI is built from, each written once as SQL over dossier rows.

The same expressions fill the monthly fact tables and answer date-range queries on the
raw rows, so pre-aggregated and raw figures cannot drift apart.
Flags a file did not carry are NULL; their `_known` counts keep "not reported" from
turning into 0%.
"""

RECEIVED_COMPONENTS = {
    "received": "count(*)",
    "received_online": "count(*) FILTER (WHERE channel = 'online')",
    "fully_online": "count(*) FILTER (WHERE fully_online)",
    "fully_online_known": "count(fully_online)",
    "digitised": "count(*) FILTER (WHERE digitised)",
    "digitised_known": "count(digitised)",
    "data_reused": "count(*) FILTER (WHERE data_reused)",
    "data_reused_known": "count(data_reused)",
}

FINISHED_COMPONENTS = {
    "finished": "count(*)",
    "e_result": "count(*) FILTER (WHERE e_result)",
    "e_result_known": "count(e_result)",
    "finished_with_due": "count(*) FILTER (WHERE due_date IS NOT NULL)",
    "finished_on_time": "count(*) FILTER (WHERE finished_date <= due_date)",
}

# As of a date A: received by A, not finished by A, due before A.
OVERDUE_OPEN_WHERE = "received_date <= $asof AND (finished_date IS NULL OR finished_date > $asof) AND due_date < $asof"
OVERDUE_OPEN_SQL = f"count(*) FILTER (WHERE {OVERDUE_OPEN_WHERE})"
