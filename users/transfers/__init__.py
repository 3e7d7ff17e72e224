"""Bulk import and export of customers (docs/transfers.md).

- ``rows``: the import columns and the checks of one row (pure Python, no database);
- ``sources``: getting an import's file into the job's folder once (download, stored upload, XLSX → CSV);
- ``imports``: the ``customer_import`` job: chunks of rows, matched and written with set-based SQL;
- ``exports``: the ``customer_export`` job: pages of customers COPYed out, joined into CSV or XLSX;
- ``views``: the API (bulkImportStoreFrontUsers, createBulkExportUsers and the two job lists).
"""
