"""scripts/audit's verdicts: a known vulnerability fails CI, an unreachable database is one
"skipped" line (and so is pip-audit's quiet "nothing found" when nothing could be looked up)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "audit"


def load_audit():
    loader = importlib.machinery.SourceFileLoader("parley_audit_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up while it loads
    loader.exec_module(module)
    return module


audit = load_audit()


def pip_report(*dependencies: dict) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_pip_audit_finding_a_vulnerability_fails() -> None:
    verdict = audit.judge_pip_audit(pip_report(
        {"name": "jinja2", "version": "2.10", "vulns": [
            {"id": "GHSA-462w-v97r-4m45", "fix_versions": ["2.10.1"], "aliases": [], "description": "…"}]},
        {"name": "msgspec", "version": "0.23.0", "vulns": []}))
    assert verdict.vulnerable == ["jinja2 2.10: GHSA-462w-v97r-4m45 (fixed in: 2.10.1)"]
    assert verdict.skipped is None
    assert "1 known vulnerabilities" in verdict.report()


def test_pip_audit_that_could_look_nothing_up_is_skipped_not_passed() -> None:
    # What pip-audit prints here (exit 0, "No known vulnerabilities found"): every package 404.
    reason = "Dependency not found on PyPI and could not be audited: aiosmtpd (1.4.6)"
    verdict = audit.judge_pip_audit(pip_report({"name": "aiosmtpd", "skip_reason": reason},
                                               {"name": "alembic", "skip_reason": reason}))
    assert verdict.vulnerable == []
    assert verdict.skipped is not None and "none of 2 packages" in verdict.skipped
    assert verdict.report().startswith("pip-audit: skipped: ")


def test_pip_audit_clean_names_what_it_could_not_audit() -> None:
    verdict = audit.judge_pip_audit(pip_report(
        {"name": "msgspec", "version": "0.23.0", "vulns": []},
        {"name": "local-only", "skip_reason": "Dependency not found on PyPI and could not be audited"}))
    assert (verdict.vulnerable, verdict.skipped) == ([], None)
    assert "1 packages audited; 1 not found on PyPI: local-only" in verdict.report()


@pytest.mark.parametrize("output", ["", "Traceback (most recent call last):", "[]", '{"x": 1}'])
def test_pip_audit_without_a_report_is_skipped(output: str) -> None:
    verdict = audit.judge_pip_audit(output, "ConnectionError: pypi.org unreachable")
    assert verdict.skipped is not None and not verdict.vulnerable


NPM_405 = {"message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
           "statusCode": 405, "error": {"summary": "", "detail": ""}}


def test_npm_audit_endpoint_errors_are_skipped() -> None:
    verdict = audit.judge_npm_audit(json.dumps(NPM_405), "npm error audit endpoint returned an error")
    assert verdict.skipped is not None and "405 Method Not Allowed" in verdict.skipped
    assert not verdict.vulnerable
    assert audit.judge_npm_audit("", "npm ERR! network ETIMEDOUT").skipped is not None


def test_npm_audit_finding_a_vulnerability_fails() -> None:
    report = {"auditReportVersion": 2, "vulnerabilities": {
        "@pyscript/core": {"name": "@pyscript/core", "severity": "high", "via": [
            {"source": 1, "title": "Prototype pollution in config merging", "url": "https://x/1"}]},
        "wrapper": {"name": "wrapper", "severity": "high", "via": ["@pyscript/core"]}},
        "metadata": {"vulnerabilities": {"high": 2, "total": 2}, "dependencies": {"total": 2}}}
    verdict = audit.judge_npm_audit(json.dumps(report))
    assert verdict.vulnerable == ["@pyscript/core (high): Prototype pollution in config merging",
                                  "wrapper (high): through @pyscript/core"]


def test_npm_audit_clean() -> None:
    report = {"auditReportVersion": 2, "vulnerabilities": {},
              "metadata": {"vulnerabilities": {"total": 0}, "dependencies": {"total": 2}}}
    verdict = audit.judge_npm_audit(json.dumps(report))
    assert (verdict.vulnerable, verdict.skipped) == ([], None)
    assert verdict.report() == "npm audit: no known vulnerabilities (2 packages audited)"


def test_exit_code_fails_only_on_known_vulnerabilities(monkeypatch, capsys) -> None:
    skipped = audit.Verdict("npm audit", skipped="the registry's audit endpoint did not answer (405)")
    monkeypatch.setattr(audit, "audit_npm", lambda: skipped)
    monkeypatch.setattr(audit, "audit_python", lambda python: audit.Verdict("pip-audit", note="3 packages"))
    assert audit.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["audit: pip-audit: no known vulnerabilities (3 packages)",
                     "audit: npm audit: skipped: the registry's audit endpoint did not answer (405)"]
    monkeypatch.setattr(audit, "audit_python",
                        lambda python: audit.Verdict("pip-audit", vulnerable=["jinja2 2.10: GHSA-x"]))
    assert audit.main([]) == 1
