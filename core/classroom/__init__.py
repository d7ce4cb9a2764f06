"""The classroom: the teacher's side of challenges, one job per module.

A challenge's rules and where challenges are kept are the runs layer's (``core.runs.challenges``: the
manager and the trainer follow them). Here:

- ``teacher``: the teacher-only service every change goes through (``Classroom``; ``NotTeacher`` without
  a valid teacher token), as ``core.runs.manager`` checks a run's owner;
- ``login``: the teacher's password, its throttle, the server's secret and the signed teacher token;
- ``challenges``: a teacher's new challenge checked and made, an edit checked (``ChallengeRejected``);
- ``hidden_test``: test examples kept back from the learners for the leaderboard;
- ``leaderboard`` and ``race``: the class leaderboard and the live race;
- ``class_results``: a class's results exported (CSV, zip); ``challenge_import``: a challenge imported
  from another server's zip.

Callers import a name from the module that owns it; this package exports nothing itself, so importing
one part (the login, for every page) does not load the others.
"""
