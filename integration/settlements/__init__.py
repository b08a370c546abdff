"""Amazon settlements to SL's general ledger (issue 14): parse (``parse``), map to accounts and post as balanced GL
batches (``accounts``, ``post``), discover and download (``flow``), refunds to credit memos and reconciliation
(``refunds``, ``reconcile``). The shapes they exchange are in ``model``."""
