"""Chat assignment: the `assignments` option and `setAssignmentRules`.

Normalised shapes (what `normalize_rules` returns and `resolve_assignment` reads):

- a rule is a tuple `(assignee_id, condition)` where `condition` is `True`/`False`,
  a tuple `(parameter_key, matcher, match_value)`, or a callable taking `cp`;
- assignments is a dict `{'resolve': callable|None, 'rules': [rule]|None,
  'defaultRules': [rule]|None}` (built by `config.normalize_assignments`); `None`
  means "not given" and `defaultRules: []` disables the app's default rules.

JS `undefined` reaches Python as `None` and JS `null` as the `JS_NULL` sentinel (the
browser binding must keep them apart for the return value of `resolve`).
"""

from widget.core.compare import JS_NULL, MATCHERS, compare
from widget.core.parameters import PARAMETER_KEYS

# Re-exported: the binding imports the sentinel from here.
__all__ = ("JS_NULL", "PARAMETER_KEYS", "normalize_rules", "resolve_assignment")


def _is_match_value(value):
    if isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value == value


def _condition(value, where):
    """(condition, error) for one rule's value; error is None when it is valid."""
    if value is True or value is False or callable(value):
        return value, None
    if isinstance(value, (list, tuple)):
        if len(value) != 3:
            return None, f"{where} must be [parameterKey, matcher, matchValue]"
        key, matcher, expected = value[0], value[1], value[2]
        if not isinstance(key, str) or key not in PARAMETER_KEYS:
            return None, "{}[0] must be a parameter key (one of {})".format(
                where,
                ", ".join(PARAMETER_KEYS),
            )
        if not isinstance(matcher, str) or matcher not in MATCHERS:
            return None, "{}[1] must be a matcher (one of {})".format(where, ", ".join(MATCHERS))
        if not _is_match_value(expected):
            return None, f"{where}[2] must be a string, number or boolean"
        return (key, matcher, expected), None
    return None, f"{where} must be true, false, [parameterKey, matcher, matchValue] or a function"


def normalize_rules(value, path):
    """Validate a list of assignment rules in the spec's form.

    Each element is an object with a single key, the team/operator ID, whose value is
    a boolean, `[parameterKey, matcher, matchValue]` or a function. Already
    normalised `(id, condition)` tuples are accepted too, so this is idempotent.
    Returns `(rules, warnings)`: `rules` is a list of `(id, condition)` tuples, or
    None when `value` is None or not a list. Each invalid rule is dropped with one
    warning naming it (e.g. "assignments.rules[2] ..."); the others are kept.
    """
    warnings = []
    if value is None:
        return None, warnings
    if not isinstance(value, (list, tuple)):
        warnings.append(f"{path} must be an array of rules")
        return None, warnings
    rules = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if isinstance(item, tuple) and len(item) == 2:
            assignee, raw = item[0], item[1]
        elif isinstance(item, dict) and len(item) == 1:
            assignee = next(iter(item))
            raw = item[assignee]
        else:
            warnings.append(f"{where} must be an object with a single key (the team or operator ID)")
            continue
        if not isinstance(assignee, str) or not assignee:
            warnings.append(f"{where}: the key must be a team or operator ID")
            continue
        condition, error = _condition(raw, f"{where}['{assignee}']")
        if error is not None:
            warnings.append(error)
            continue
        rules.append((assignee, condition))
    return rules, warnings


def _js_truthy(value):
    """JS truthiness of a value a host function returned ([] and {} are truthy in JS)."""
    if value is None or value is JS_NULL or value is False:
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return value == value and value != 0
    if isinstance(value, str):
        return value != ""
    return True


def _error_text(error):
    text = str(error)
    name = type(error).__name__
    return f"{name}: {text}" if text else name


def _first_match(rules, parameters, cp, label, warnings):
    """The assignee of the first matching rule, or None when no rule matches."""
    for index, rule in enumerate(rules):
        assignee, condition = rule[0], rule[1]
        if condition is True:
            return assignee
        if condition is False:
            continue
        if callable(condition):
            try:
                matched = _js_truthy(condition(cp))
            except Exception as error:  # a host function may raise anything
                warnings.append(
                    f"{label}[{index}] ('{assignee}'): the rule function raised"
                    f" {_error_text(error)}; treated as no match"
                )
                continue
            if matched:
                return assignee
            continue
        key, matcher, expected = condition[0], condition[1], condition[2]
        value = parameters.get(key) if isinstance(parameters, dict) else None
        if compare(value, matcher, expected):
            return assignee
    return None


def _resolved_ids(result, warnings):
    """(ids, stop) from what `resolve(cp)` returned; ids None means "continue"."""
    if result is JS_NULL:
        return [], True
    if result is None:
        return None, False
    if isinstance(result, str) and result:
        return [result], True
    if isinstance(result, (list, tuple)):
        ids = []
        for index, item in enumerate(result):
            if isinstance(item, str) and item:
                if item not in ids:
                    ids.append(item)
            else:
                warnings.append(f"assignments.resolve returned a non-ID at index {index}; it is ignored")
        if ids:
            return ids, True
        warnings.append("assignments.resolve returned no IDs; continuing with the rules")
        return None, False
    warnings.append(
        "assignments.resolve must return an ID, an array of IDs, undefined or null; continuing with the rules"
    )
    return None, False


def resolve_assignment(assignments, parameters, cp, server_default_rules):
    """Decide who a new chat goes to, in the spec's priority order.

    - `assignments`: normalised assignments (see module docstring) or None.
    - `parameters`: dict of parameter key -> value (`getParameterValue`); a missing
      key is an unknown value, which only `!=`/`!contains` rules match.
    - `cp`: the object passed to `resolve` and rule functions (the binding's API).
    - `server_default_rules`: the app's default rules (spec form or normalised), or
      None when the app has none; replaced by `assignments['defaultRules']` when set.

    Steps: `resolve(cp)` first: an ID -> [ID], a list -> that list (the server
    picks one), None (JS undefined) -> go on, JS_NULL -> stop; a raising `resolve`
    is reported and treated as undefined. Then `rules`, then default rules: the
    first matching rule wins; a rule function that raises counts as no match.

    Returns `(assignees, warnings)`: a list of IDs, `[]` for "stop: no assignment
    rule applies" (only `resolve` returning null), or None for "no rule matched: let
    the server decide (round robin)".
    """
    warnings = []
    if not isinstance(assignments, dict):
        assignments = {}
    resolve = assignments.get("resolve")
    if callable(resolve):
        try:
            result = resolve(cp)
        except Exception as error:  # a host function may raise anything
            warnings.append(f"assignments.resolve raised {_error_text(error)}; continuing with the rules")
        else:
            ids, stop = _resolved_ids(result, warnings)
            if stop:
                return ids, warnings
    rules = assignments.get("rules")
    if rules:
        assignee = _first_match(rules, parameters, cp, "assignments.rules", warnings)
        if assignee is not None:
            return [assignee], warnings
    default_rules = assignments.get("defaultRules")
    label = "assignments.defaultRules"
    if default_rules is None:
        default_rules, problems = normalize_rules(server_default_rules, "app default rules")
        warnings.extend(problems)
        label = "app default rules"
    if default_rules:
        assignee = _first_match(default_rules, parameters, cp, label, warnings)
        if assignee is not None:
            return [assignee], warnings
    return None, warnings
