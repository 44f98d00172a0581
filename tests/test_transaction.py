"""The unit of work (blueprints/core/transaction.py): one owner per transaction, after-commit
callbacks, BEGIN IMMEDIATE on SQLite, and IntegrityError turned into the constraint's message."""
from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, func, select, text

from blueprints.core import errors
from blueprints.core.errors import Conflict, DomainError
from blueprints.core.extensions import db
from blueprints.core.models import Area
from blueprints.core.transaction import after_commit, in_transaction, transaction, transactional
from tests.conftest import ON_POSTGRES


def _count_elsewhere(database_url: str) -> int:
    """Areas as another connection sees them: only what is committed."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM areas")).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def county(app):
    with transaction():
        root = Area(name="青山县", kind="county")
        db.session.add(root)
    return root


def test_the_outermost_block_commits_and_nested_blocks_only_flush(app, database_url, county):
    with transaction():
        with transaction():
            db.session.add(Area(name="城关镇", kind="township", parent=county))
        assert in_transaction()
        assert db.session.scalar(select(func.count()).select_from(Area)) == 2  # flushed
        assert _count_elsewhere(database_url) == 1  # not committed
    assert not in_transaction()
    assert _count_elsewhere(database_url) == 2


def test_an_error_anywhere_rolls_back_the_whole_unit(app, database_url, county):
    with pytest.raises(DomainError, match="不行"), transaction():
        db.session.add(Area(name="城关镇", kind="township", parent=county))
        with transaction():
            db.session.add(Area(name="临涣镇", kind="township", parent=county))
            raise DomainError("不行")
    assert _count_elsewhere(database_url) == 1
    assert db.session.scalar(select(func.count()).select_from(Area)) == 1


def test_a_decorated_service_commits_alone_and_joins_its_callers_unit(app, database_url, county):
    @transactional
    def add_township(name):
        db.session.add(Area(name=name, kind="township", parent_id=county.id))

    add_township("城关镇")
    assert _count_elsewhere(database_url) == 2
    with pytest.raises(RuntimeError), transaction():
        add_township("临涣镇")
        raise RuntimeError("the caller fails after the service")
    assert _count_elsewhere(database_url) == 2


def test_after_commit_callbacks_run_once_committed_and_never_for_a_rollback(app, database_url, county):
    seen = []
    with transaction():
        db.session.add(Area(name="城关镇", kind="township", parent=county))
        with transaction():
            after_commit(lambda: seen.append(("inner", _count_elsewhere(database_url))))
        after_commit(lambda: seen.append(("outer", _count_elsewhere(database_url))))
        assert seen == []  # nothing runs before the outermost commit
    assert seen == [("inner", 2), ("outer", 2)]  # in order, and they see the committed rows

    seen.clear()
    with pytest.raises(DomainError), transaction():
        db.session.add(Area(name="临涣镇", kind="township", parent=county))
        after_commit(lambda: seen.append("sent"))
        raise DomainError("拒绝")
    with transaction():
        pass  # a later unit does not inherit the rolled-back unit's callbacks
    assert seen == []


def test_a_failing_callback_does_not_undo_the_commit(app, database_url, county):
    def boom():
        raise ValueError("mail server down")

    with transaction():
        db.session.add(Area(name="城关镇", kind="township", parent=county))
        after_commit(boom)
    assert _count_elsewhere(database_url) == 2


def test_after_commit_outside_a_unit_of_work_is_a_programming_error(app):
    with pytest.raises(RuntimeError):
        after_commit(lambda: None)


def test_changes_made_outside_the_block_are_refused_not_silently_dropped(app, county):
    db.session.add(Area(name="城关镇", kind="township", parent_id=county.id))
    with pytest.raises(RuntimeError, match="outside a transaction"), transaction():
        pass
    db.session.rollback()


def test_a_unique_violation_answers_the_message_registered_for_that_constraint(app, database_url, county,
                                                                               monkeypatch):
    monkeypatch.setitem(errors._CONSTRAINT_MESSAGES, "uq_areas_parent_id_name",
                        ("同一上级下已有同名的行政区划。", "name", Conflict))
    with transaction():
        db.session.add(Area(name="城关镇", kind="township", parent=county))
    with pytest.raises(Conflict) as refused, transaction():
        db.session.add(Area(name="城关镇", kind="township", parent_id=county.id))
    assert refused.value.message == "同一上级下已有同名的行政区划。"
    assert refused.value.field == "name" and refused.value.status == 409
    assert _count_elsewhere(database_url) == 2


def test_any_other_violation_says_what_it_is_not_the_registered_message(app, database_url, county, monkeypatch):
    monkeypatch.setitem(errors._CONSTRAINT_MESSAGES, "uq_areas_parent_id_name",
                        ("同一上级下已有同名的行政区划。", "name", Conflict))
    with pytest.raises(DomainError) as refused, transaction():
        db.session.add(Area(name="某地", kind="planet", parent_id=county.id))
    assert "ck_areas_kind" in refused.value.message and "不符合规则" in refused.value.message
    assert refused.value.status == 422
    with pytest.raises(DomainError) as refused, transaction():
        db.session.add(Area(name="某地", kind="township", parent_id=999_999))
    assert "引用的记录不存在" in refused.value.message
    assert "同名" not in refused.value.message
    assert _count_elsewhere(database_url) == 1


def test_an_unregistered_unique_names_its_constraint(app, county, monkeypatch):
    monkeypatch.delitem(errors._CONSTRAINT_MESSAGES, "uq_areas_parent_id_name", raising=False)
    with transaction():
        db.session.add(Area(name="城关镇", kind="township", parent=county))
    with pytest.raises(Conflict, match="uq_areas_parent_id_name"), transaction():
        db.session.add(Area(name="城关镇", kind="township", parent_id=county.id))


# ---- SQLite: writers queue, readers take no lock ------------------------------------------------

sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's locking")


def _try_write_lock(path: str) -> bool:
    """Can another connection take the write lock right now (no waiting)?"""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        conn.close()


@sqlite_only
def test_the_outermost_block_takes_the_write_lock_before_it_reads(app, database_url, county):
    path = database_url.removeprefix("sqlite:///")
    db.session.scalar(select(func.count()).select_from(Area))  # a read, as a request does first
    assert _try_write_lock(path), "a read must not hold the write lock"
    with transaction():
        assert not _try_write_lock(path), "the unit of work holds the write lock from its start"
        db.session.scalar(select(func.count()).select_from(Area))
    assert _try_write_lock(path)


@sqlite_only
def test_concurrent_read_then_write_units_queue_instead_of_failing(app, database_url, county):
    """Eight threads each read a name and write the next one ten times: with deferred transactions
    some would fail with "database is locked"; with BEGIN IMMEDIATE every one waits its turn."""
    failures, flask_app = [], app

    def worker(n):
        with flask_app.app_context():
            try:
                for i in range(10):
                    with transaction():
                        total = db.session.scalar(select(func.count()).select_from(Area))
                        db.session.add(Area(name=f"镇{n}-{i}-{total}", kind="township", parent_id=county.id))
            except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
                failures.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert _count_elsewhere(database_url) == 81


def test_rows_flushed_outside_the_block_are_refused_not_silently_dropped(app, county):
    county.name = "青山县（新）"
    db.session.flush()  # as an autoflush before a query would
    with pytest.raises(RuntimeError, match="outside a transaction"), transaction():
        pass
    db.session.rollback()
    with transaction():  # after the rollback the session is clean again
        pass
