"""The app runs every view and hook as a plain function (app.SyncFlask): none may be a
coroutine, which would be called and never awaited."""

import inspect
from itertools import chain


def _views_and_hooks(app) -> list:
    hooks = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
        app.url_value_preprocessors,
        app.url_default_functions,
        app.template_context_processors,
    )
    found = [
        *chain.from_iterable(chain.from_iterable(hook.values()) for hook in hooks),
        *app.teardown_appcontext_funcs,
        *(
            handler
            for codes in app.error_handler_spec.values()
            for handlers in codes.values()
            for handler in handlers.values()
        ),
    ]
    for view in app.view_functions.values():
        found.append(view)
        view_class = getattr(view, "view_class", None)
        for method in getattr(view_class, "methods", None) or ():
            found.append(getattr(view_class, method.lower()))
    return found


def test_no_view_or_hook_is_a_coroutine(app):
    found = _views_and_hooks(app)
    assert len(found) > 40  # the API's views, their methods and the hooks were all found
    assert [f for f in found if inspect.iscoroutinefunction(f)] == []


def test_a_coroutine_view_would_be_found(app):
    async def view():
        return {}

    app.view_functions["coroutine_for_this_test"] = view
    try:
        assert view in _views_and_hooks(app)
    finally:
        del app.view_functions["coroutine_for_this_test"]
