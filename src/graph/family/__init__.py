"""The family GraphQL surface: children, tasks, answers, gifts, points history, stats."""
