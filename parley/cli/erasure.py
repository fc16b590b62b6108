"""`parley visitor delete` and `parley retention purge`: erasing data, rows and file bytes."""

from __future__ import annotations

import asyncio
import json
import sys

from parley import file_store, identity
from parley.cli.database import need_app, with_database
from parley.cli.errors import UsageError
from parley.storage import retention, visitor_store

MAX_RETENTION_DAYS = 36500


def cmd_visitor_delete(args) -> int:
    if not identity.valid_user_id(args.visitor_id):
        raise UsageError("--visitor-id must be 1 to 64 characters of A-Z a-z 0-9 _ -")

    async def work(session):
        await need_app(session, args.app_id)
        visitor = await visitor_store.get_visitor(session, args.app_id, args.visitor_id)
        if visitor is None:  # also another app's visitor: the same answer
            raise UsageError(f"the app has no visitor with id {args.visitor_id!r}")
        return await retention.erase_visitor(session, visitor)
    counts, file_ids = asyncio.run(with_database(args.db, work))
    return _report_erasure({"visitorId": args.visitor_id, "appId": args.app_id, "deleted": counts},
                           file_ids)


def cmd_retention_purge(args) -> int:
    if not 1 <= args.days <= MAX_RETENTION_DAYS:
        raise UsageError(f"--days must be 1 to {MAX_RETENTION_DAYS}")

    async def work(session):
        if args.app_id is not None:
            await need_app(session, args.app_id)
        return await retention.purge_old(session, args.days, args.app_id, args.dry_run)
    counts, file_ids = asyncio.run(with_database(args.db, work))
    result = {"days": args.days, "appId": args.app_id, "dryRun": args.dry_run,
              "wouldDelete" if args.dry_run else "deleted": counts}
    return _report_erasure(result, file_ids, args.dry_run)


def _report_erasure(result: dict, file_ids: list[str], dry_run: bool = False) -> int:
    """Removes the deleted files' bytes (the rows are gone, committed) and prints the result."""
    if not dry_run:
        result["fileBytesRemoved"], failed = _remove_file_bytes(file_ids)
        if failed:
            result["fileBytesNotRemoved"] = failed
    print(json.dumps(result, indent=2))
    return 1 if result.get("fileBytesNotRemoved") else 0


def _remove_file_bytes(file_ids: list[str]) -> tuple[int, list[str]]:
    """Deletes the stored bytes of these files: (how many were removed, ids that could not be)."""
    removed, failed = 0, []
    for file_id in file_ids:
        try:
            # False: no bytes were stored (or an earlier run removed them).
            removed += file_store.delete_file_bytes(file_id)
        except OSError as error:
            print(f"parley: error: could not delete the bytes of file {file_id}: {error}", file=sys.stderr)
            failed.append(file_id)
    return removed, failed
