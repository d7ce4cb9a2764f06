"""CNN Playground: build a CNN with widgets, train it and watch it learn. Run: streamlit run dashboard/app.py"""

from dashboard import runtime  # noqa: I001  (first: the Streamlit/Keras fixes, and what imports TensorFlow)
import streamlit as st

from core.runs.store import StoreError
from dashboard import session
from dashboard.components.classroom import challenge_banner
from dashboard.components.page_style import page_style
from dashboard.components.sidebar_status import sidebar_status

st.set_page_config(page_title="CNN Playground", page_icon=":material/neurology:", layout="wide")
page_style()
session.remember_user_in_browser()
session.remember_teacher_in_browser()
store_problem = session.store_problem()  # a damaged run store: every page says so, plainly, instead
if store_problem is None:
    session.playground()
    session.keep_working_model()  # edits made by the last run's callbacks: a refresh finds them (page.run may stop early)

build = st.Page("views/build.py", title="Build", icon=":material/construction:", default=True)
data = st.Page("views/data.py", title="Data", icon=":material/image:")
# Pages that need no TensorFlow: served at once while it imports (a learner's first steps are Build and Data).
SERVED_WHILE_IMPORTING = {build.url_path, data.url_path}
page = st.navigation(
    [
        build,
        data,
        st.Page("views/train.py", title="Train", icon=":material/play_circle:"),
        st.Page("views/results.py", title="Results", icon=":material/insights:"),
        st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("views/experiment.py", title="Experiment", icon=":material/science:"),
        st.Page("views/inside.py", title="Inside the network", icon=":material/visibility:"),
        st.Page("views/predict.py", title="Predict", icon=":material/draw:"),
        st.Page("views/projector.py", title="Projector", icon=":material/cast_for_education:"),
        st.Page("views/teacher.py", title="Teacher", icon=":material/school:"),
    ]
)
if store_problem is not None:
    st.error(store_problem, icon=":material/database:")
    st.stop()
try:
    sidebar_status()
    challenge_banner()
    if session.manager().notice:  # e.g. the training cluster cannot be reached, or the run store is read-only
        st.warning(session.manager().notice, icon=":material/cloud_off:")
    if page.url_path not in SERVED_WHILE_IMPORTING:
        runtime.wait_for_imports()
    page.run()
    session.keep_working_model()
except StoreError as error:  # the store failed while the app ran (a disk that filled up or went bad)
    st.error(error.public, icon=":material/database:")
finally:  # once per process, after its first page: the training workers, then TensorFlow in this one
    runtime.import_in_background(session.manager().runner.start_workers)
