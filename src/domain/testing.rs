//! A given/when/then helper for aggregate tests, so a domain test reads as three lines a
//! reader can check against the product documentation:
//! `given(past events).when(command).then_expect(events)`.

use std::fmt::Debug;

use crate::domain::Rejection;
use crate::domain::event::Event;

type Decide<S, C, X> = fn(&S, &C, &X) -> Result<Vec<Event>, Rejection>;

/// An aggregate with its past events folded in, waiting for a command.
pub struct Given<S, C, X> {
    state: S,
    ctx: X,
    decide: Decide<S, C, X>,
    command: Option<C>,
}

impl<S: Debug, C: Debug, X: Default> Given<S, C, X> {
    /// Folds `past` into `initial` with `apply`.
    pub fn new(
        mut initial: S,
        past: &[Event],
        apply: fn(&mut S, &Event),
        decide: Decide<S, C, X>,
    ) -> Self {
        for event in past {
            apply(&mut initial, event);
        }
        Self {
            state: initial,
            ctx: X::default(),
            decide,
            command: None,
        }
    }

    /// Replaces the context (settings, now) the command is decided in.
    pub fn with(mut self, ctx: X) -> Self {
        self.ctx = ctx;
        self
    }

    /// The command under test.
    pub fn when(mut self, command: C) -> Self {
        self.command = Some(command);
        self
    }

    fn run(&self) -> Result<Vec<Event>, Rejection> {
        let command = self.command.as_ref().expect("when(command) before then_*");
        (self.decide)(&self.state, command, &self.ctx)
    }

    /// The command is accepted and yields exactly `expected`.
    #[track_caller]
    pub fn then_expect(self, expected: &[Event]) {
        match self.run() {
            Ok(events) => assert_eq!(events, expected, "state: {:?}", self.state),
            Err(rejection) => panic!("expected {expected:?}, got rejection {rejection}"),
        }
    }

    /// The command is refused as conflicting with the state.
    #[track_caller]
    pub fn then_expect_conflict(self) {
        match self.run() {
            Err(Rejection::Conflict(_)) => {}
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    /// The command is refused naming `field` as invalid.
    #[track_caller]
    pub fn then_expect_invalid(self, field: &str) {
        match self.run() {
            Err(Rejection::Invalid { field: f, .. }) if f == field => {}
            other => panic!("expected invalid {field}, got {other:?}"),
        }
    }
}
