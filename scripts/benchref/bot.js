// The reference bot's conversation: a TeamsActivityHandler that loads and saves ConversationState (a turn
// counter per conversation) and UserState (the user's last command) on every turn, answers a message with one
// text reply through the Connector, and an Action.Execute card action with an Adaptive Card in the invoke
// response. It makes no Graph calls (AccessBot's mix does, against its embedded simulator).
'use strict';

const { MessageFactory, TeamsActivityHandler } = require('botbuilder');

class ReferenceBot extends TeamsActivityHandler {
    /**
     * @param {import('botbuilder').ConversationState} conversationState
     * @param {import('botbuilder').UserState} userState
     */
    constructor(conversationState, userState) {
        super();
        this.conversationState = conversationState;
        this.userState = userState;
        this.turns = conversationState.createProperty('turns');
        this.lastCommand = userState.createProperty('lastCommand');

        this.onMessage(async (context, next) => {
            const text = (context.activity.text || '').trim();
            const turn = await this.countTurn(context, text);
            await context.sendActivity(MessageFactory.text(`Turn ${turn}: you said "${text}".`));
            await next();
        });
    }

    /** Action.Execute (invoke adaptiveCard/action): answer with a card built from the verb and its data. */
    async onAdaptiveCardInvoke(context, invokeValue) {
        const { verb, data } = invokeValue.action;
        const turn = await this.countTurn(context, verb);
        return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card(verb, data, turn) };
    }

    async countTurn(context, command) {
        const turn = (await this.turns.get(context, 0)) + 1;
        await this.turns.set(context, turn);
        await this.lastCommand.set(context, command);
        return turn;
    }

    /** Every turn: the handlers, then both states saved (the samples' pattern). */
    async run(context) {
        await super.run(context);
        await this.conversationState.saveChanges(context, false);
        await this.userState.saveChanges(context, false);
    }
}

function card(verb, data, turn) {
    return {
        type: 'AdaptiveCard',
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        version: '1.5',
        body: [
            { type: 'TextBlock', text: `Done: ${verb}`, weight: 'Bolder', size: 'Medium', wrap: true },
            {
                type: 'FactSet',
                facts: Object.entries(data || {}).map(([title, value]) => ({ title, value: String(value) })),
            },
            { type: 'TextBlock', text: `Turn ${turn}`, isSubtle: true },
        ],
        actions: [{ type: 'Action.Execute', title: 'Refresh', verb, data }],
    };
}

module.exports = { ReferenceBot };
