"""Bulk import and export of customers (docs/transfers.md).

- ``formats``: the file formats (csv, xlsx) and their check;
- ``rows``: the import columns and the checks of one row (pure Python, no database);
- ``columns``: extra import columns other apps read (the attributes app's slug columns), as providers;
- ``sources``: getting an import's file into the job's folder once (download, stored upload, XLSX → CSV);
- ``imports``: the ``customer_import`` job: chunks of rows, matched and written with set-based SQL
  (the rows of new customers: users.customer_rows);
- ``exports``: the ``customer_export`` job: pages of customers COPYed out, joined into CSV or XLSX;
- ``selectors``: the job lists (filtered by core.jobs.filters);
- ``serializers`` / ``views``: the API (bulkImportStoreFrontUsers, createBulkExportUsers and the two job lists).
"""
