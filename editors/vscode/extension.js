// The kiln extension: starts `kiln lsp` (stdio) for .img and .kvars files.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('kiln').get('path') || 'kiln';
  const serverOptions = { command, args: ['lsp'] };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'kiln' },
      { scheme: 'untitled', language: 'kiln' },
    ],
  };
  client = new LanguageClient('kiln', 'kiln lsp', serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
