"""The widget's translation table, language choice, and `{placeholder}` filling.

Every user-visible string of the widget lives here, keyed by a stable name.
English is the reference: every other language has exactly its keys and uses
the same `{placeholders}`; a key missing at runtime falls back to English and
then to the key itself, so a gap shows an odd label instead of breaking the
widget.

Language choice follows the spec's `language` option: `use` overrides
`source`; source 'html' reads `<html lang>`, 'header' (the default) reads the
visitor's Accept-Language (a header string with q-values, or a list in
preference order such as `navigator.languages`). Anything unsupported ends in
English.
"""

from widget.core.parameters import split_language_tag

DEFAULT_LANGUAGE = "en"

# Right-to-left scripts: the widget mirrors its layout (dir="rtl") for these.
RTL_LANGUAGES = ("ar", "he")

# English: the reference table. Keys are grouped by where the text appears.
EN = {
    # launcher and header
    "launcher_open": "Open chat",
    "launcher_close": "Close chat",
    "header_title": "Chat with us",
    "status_online": "We're online",
    "status_offline": "We're away",
    "reply_time": "We usually reply within {minutes} minutes",
    "minimize": "Minimize chat",
    "invitation_close": "Dismiss",
    "invitation_title": "Chat invitation",
    # welcome messages
    "welcome_online": "Hi! How can we help you today?",
    "welcome_offline": "We're away right now. Leave a message and we'll get back to you.",
    # composer
    "composer_placeholder": "Type your message…",
    "send": "Send",
    "attach_file": "Attach a file",
    # message list
    "message_sending": "Sending",
    "message_read": "Read",
    "message_unread": "Unread",
    "message_failed": "Not sent. Click to retry.",
    "retry": "Retry",
    "operator_typing": "Operator is typing…",
    "named_typing": "{name} is typing…",
    "you": "You",
    "operator": "Operator",
    "new_message": "New message",
    "new_messages": "{count} new messages",
    # offline form
    "offline_form_title": "Leave your email and we'll get back to you",
    "name_placeholder": "Your name",
    "email_placeholder": "Your email",
    "email_invalid": "Please enter a valid email address",
    "submit": "Submit",
    "offline_thanks": "Thanks! We'll get back to you soon.",
    # rating and end of chat
    "rate_title": "How was this chat?",
    "rate_good": "Good",
    "rate_bad": "Bad",
    "rate_comment_placeholder": "Add a comment (optional)",
    "rate_thanks": "Thanks for your feedback!",
    "transcript_request": "Request transcript",
    "transcript_sent": "We'll send the transcript to {email}",
    "transcript_refused": "The transcript can't be sent to this address",
    "transcript_already": "The transcript of this chat has already been requested",
    "transcript_later": "Too many requests. Please try again later.",
    "chat_ended": "Chat ended",
    "chat_reopened": "Chat reopened",
    "new_chat": "Start a new chat",
    # connection and errors
    "reconnecting": "Reconnecting…",
    "file_too_large": "The file is too large (maximum {max})",
    "file_type_not_allowed": "This file type isn't allowed",
    "upload_failed": "The file couldn't be uploaded",
    "send_failed": "Your message couldn't be sent",
    "error_generic": "Something went wrong. Please try again.",
    # footer
    "powered_by": "Powered by Parley",
    "operator_joined": '{name} joined the chat',
    "uploading": 'Uploading {name}… {percent}%',
    "cancel": 'Cancel',
    "queue_position": "You're number {position} in line. An operator will be with you soon.",
}

DE = {
    "launcher_open": "Chat öffnen",
    "launcher_close": "Chat schließen",
    "header_title": "Schreiben Sie uns",
    "status_online": "Wir sind online",
    "status_offline": "Wir sind gerade nicht da",
    "reply_time": "Wir antworten in der Regel innerhalb von {minutes} Minuten",
    "minimize": "Chat minimieren",
    "invitation_close": "Schließen",
    "invitation_title": "Chat-Einladung",
    "welcome_online": "Hallo! Wie können wir Ihnen heute helfen?",
    "welcome_offline": (
        "Wir sind gerade nicht da. Hinterlassen Sie eine Nachricht, wir melden uns bei Ihnen."
    ),
    "composer_placeholder": "Nachricht eingeben…",
    "send": "Senden",
    "attach_file": "Datei anhängen",
    "message_sending": "Wird gesendet",
    "message_read": "Gelesen",
    "message_unread": "Ungelesen",
    "message_failed": "Nicht gesendet. Zum Wiederholen klicken.",
    "retry": "Erneut versuchen",
    "operator_typing": "Mitarbeiter schreibt…",
    "named_typing": "{name} schreibt…",
    "you": "Sie",
    "operator": "Mitarbeiter",
    "new_message": "Neue Nachricht",
    "new_messages": "{count} neue Nachrichten",
    "offline_form_title": "Hinterlassen Sie Ihre E-Mail-Adresse, wir melden uns bei Ihnen",
    "name_placeholder": "Ihr Name",
    "email_placeholder": "Ihre E-Mail-Adresse",
    "email_invalid": "Bitte geben Sie eine gültige E-Mail-Adresse ein",
    "submit": "Absenden",
    "offline_thanks": "Danke! Wir melden uns bald bei Ihnen.",
    "rate_title": "Wie war dieser Chat?",
    "rate_good": "Gut",
    "rate_bad": "Schlecht",
    "rate_comment_placeholder": "Kommentar hinzufügen (optional)",
    "rate_thanks": "Danke für Ihr Feedback!",
    "transcript_request": "Chatverlauf anfordern",
    "transcript_sent": "Wir senden den Chatverlauf an {email}",
    "transcript_refused": "An diese Adresse können wir den Chatverlauf nicht senden",
    "transcript_already": "Der Chatverlauf wurde bereits angefordert",
    "transcript_later": "Zu viele Anfragen. Bitte versuchen Sie es später erneut.",
    "chat_ended": "Chat beendet",
    "chat_reopened": "Chat wieder geöffnet",
    "new_chat": "Neuen Chat starten",
    "reconnecting": "Verbindung wird wiederhergestellt…",
    "file_too_large": "Die Datei ist zu groß (maximal {max})",
    "file_type_not_allowed": "Dieser Dateityp ist nicht erlaubt",
    "upload_failed": "Die Datei konnte nicht hochgeladen werden",
    "send_failed": "Ihre Nachricht konnte nicht gesendet werden",
    "error_generic": "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
    "powered_by": "Bereitgestellt von Parley",
    "operator_joined": '{name} ist dem Chat beigetreten',
    "uploading": '{name} wird hochgeladen… {percent} %',
    "cancel": 'Abbrechen',
    "queue_position": 'Sie sind Nummer {position} in der Warteschlange. Gleich ist jemand für Sie da.',
}

# French typography puts a no-break space before ? and ! so they never wrap alone.
FR = {
    "launcher_open": "Ouvrir le chat",
    "launcher_close": "Fermer le chat",
    "header_title": "Discutez avec nous",
    "status_online": "Nous sommes en ligne",
    "status_offline": "Nous sommes absents",
    "reply_time": "Nous répondons généralement en moins de {minutes} minutes",
    "minimize": "Réduire le chat",
    "invitation_close": "Fermer",
    "invitation_title": "Invitation à discuter",
    "welcome_online": "Bonjour\u00a0! Comment pouvons-nous vous aider aujourd'hui\u00a0?",
    "welcome_offline": (
        "Nous sommes absents pour le moment. Laissez-nous un message et nous vous recontacterons."
    ),
    "composer_placeholder": "Écrivez votre message…",
    "send": "Envoyer",
    "attach_file": "Joindre un fichier",
    "message_sending": "Envoi en cours",
    "message_read": "Lu",
    "message_unread": "Non lu",
    "message_failed": "Non envoyé. Cliquez pour réessayer.",
    "retry": "Réessayer",
    "operator_typing": "L'opérateur écrit…",
    "named_typing": "{name} écrit…",
    "you": "Vous",
    "operator": "Opérateur",
    "new_message": "Nouveau message",
    "new_messages": "{count} nouveaux messages",
    "offline_form_title": "Laissez-nous votre e-mail et nous vous recontacterons",
    "name_placeholder": "Votre nom",
    "email_placeholder": "Votre e-mail",
    "email_invalid": "Veuillez saisir une adresse e-mail valide",
    "submit": "Valider",
    "offline_thanks": "Merci\u00a0! Nous vous recontacterons bientôt.",
    "rate_title": "Comment s'est passé ce chat\u00a0?",
    "rate_good": "Bien",
    "rate_bad": "Mal",
    "rate_comment_placeholder": "Ajouter un commentaire (facultatif)",
    "rate_thanks": "Merci pour votre avis\u00a0!",
    "transcript_request": "Recevoir la transcription",
    "transcript_sent": "Nous enverrons la transcription à {email}",
    "transcript_refused": "Nous ne pouvons pas envoyer la transcription à cette adresse",
    "transcript_already": "La transcription de cette conversation a déjà été demandée",
    "transcript_later": "Trop de demandes. Veuillez réessayer plus tard.",
    "chat_ended": "Chat terminé",
    "chat_reopened": "Chat rouvert",
    "new_chat": "Démarrer un nouveau chat",
    "reconnecting": "Reconnexion…",
    "file_too_large": "Le fichier est trop volumineux (maximum {max})",
    "file_type_not_allowed": "Ce type de fichier n'est pas autorisé",
    "upload_failed": "Le fichier n'a pas pu être envoyé",
    "send_failed": "Votre message n'a pas pu être envoyé",
    "error_generic": "Une erreur s'est produite. Veuillez réessayer.",
    "powered_by": "Propulsé par Parley",
    "operator_joined": '{name} a rejoint la conversation',
    "uploading": 'Envoi de {name}… {percent} %',
    "cancel": 'Annuler',
    "queue_position": "Vous êtes numéro {position} dans la file d'attente. Un conseiller arrive bientôt.",
}

ES = {
    "launcher_open": "Abrir chat",
    "launcher_close": "Cerrar chat",
    "header_title": "Chatea con nosotros",
    "status_online": "Estamos en línea",
    "status_offline": "Ahora no estamos disponibles",
    "reply_time": "Solemos responder en menos de {minutes} minutos",
    "minimize": "Minimizar chat",
    "invitation_close": "Cerrar",
    "invitation_title": "Invitación al chat",
    "welcome_online": "¡Hola! ¿En qué podemos ayudarte hoy?",
    "welcome_offline": "Ahora no estamos disponibles. Déjanos un mensaje y te responderemos.",
    "composer_placeholder": "Escribe tu mensaje…",
    "send": "Enviar",
    "attach_file": "Adjuntar un archivo",
    "message_sending": "Enviando",
    "message_read": "Leído",
    "message_unread": "No leído",
    "message_failed": "No enviado. Haz clic para reintentar.",
    "retry": "Reintentar",
    "operator_typing": "El operador está escribiendo…",
    "named_typing": "{name} está escribiendo…",
    "you": "Tú",
    "operator": "Operador",
    "new_message": "Nuevo mensaje",
    "new_messages": "{count} mensajes nuevos",
    "offline_form_title": "Déjanos tu correo electrónico y te responderemos",
    "name_placeholder": "Tu nombre",
    "email_placeholder": "Tu correo electrónico",
    "email_invalid": "Introduce una dirección de correo electrónico válida",
    "submit": "Enviar",
    "offline_thanks": "¡Gracias! Te responderemos pronto.",
    "rate_title": "¿Qué tal fue este chat?",
    "rate_good": "Bien",
    "rate_bad": "Mal",
    "rate_comment_placeholder": "Añade un comentario (opcional)",
    "rate_thanks": "¡Gracias por tu opinión!",
    "transcript_request": "Solicitar transcripción",
    "transcript_sent": "Enviaremos la transcripción a {email}",
    "transcript_refused": "No podemos enviar la transcripción a esta dirección",
    "transcript_already": "Ya se ha solicitado la transcripción de este chat",
    "transcript_later": "Demasiadas solicitudes. Inténtalo de nuevo más tarde.",
    "chat_ended": "Chat finalizado",
    "chat_reopened": "Chat reabierto",
    "new_chat": "Iniciar un nuevo chat",
    "reconnecting": "Reconectando…",
    "file_too_large": "El archivo es demasiado grande (máximo {max})",
    "file_type_not_allowed": "Este tipo de archivo no está permitido",
    "upload_failed": "No se pudo subir el archivo",
    "send_failed": "No se pudo enviar tu mensaje",
    "error_generic": "Algo salió mal. Inténtalo de nuevo.",
    "powered_by": "Con la tecnología de Parley",
    "operator_joined": '{name} se ha unido al chat',
    "uploading": 'Subiendo {name}… {percent} %',
    "cancel": 'Cancelar',
    "queue_position": 'Eres el número {position} en la cola. Enseguida te atenderá alguien.',
}

IT = {
    "launcher_open": "Apri la chat",
    "launcher_close": "Chiudi la chat",
    "header_title": "Scrivici",
    "status_online": "Siamo online",
    "status_offline": "Al momento non siamo disponibili",
    "reply_time": "Di solito rispondiamo entro {minutes} minuti",
    "minimize": "Riduci la chat",
    "invitation_close": "Chiudi",
    "invitation_title": "Invito alla chat",
    "welcome_online": "Ciao! Come possiamo aiutarti oggi?",
    "welcome_offline": "Al momento non siamo disponibili. Lasciaci un messaggio e ti ricontatteremo.",
    "composer_placeholder": "Scrivi il tuo messaggio…",
    "send": "Invia",
    "attach_file": "Allega un file",
    "message_sending": "Invio in corso",
    "message_read": "Letto",
    "message_unread": "Non letto",
    "message_failed": "Non inviato. Fai clic per riprovare.",
    "retry": "Riprova",
    "operator_typing": "L'operatore sta scrivendo…",
    "named_typing": "{name} sta scrivendo…",
    "you": "Tu",
    "operator": "Operatore",
    "new_message": "Nuovo messaggio",
    "new_messages": "{count} nuovi messaggi",
    "offline_form_title": "Lasciaci la tua email e ti ricontatteremo",
    "name_placeholder": "Il tuo nome",
    "email_placeholder": "La tua email",
    "email_invalid": "Inserisci un indirizzo email valido",
    "submit": "Invia",
    "offline_thanks": "Grazie! Ti ricontatteremo presto.",
    "rate_title": "Com'è andata questa chat?",
    "rate_good": "Bene",
    "rate_bad": "Male",
    "rate_comment_placeholder": "Aggiungi un commento (facoltativo)",
    "rate_thanks": "Grazie per il tuo feedback!",
    "transcript_request": "Richiedi la trascrizione",
    "transcript_sent": "Invieremo la trascrizione a {email}",
    "transcript_refused": "Non possiamo inviare la trascrizione a questo indirizzo",
    "transcript_already": "La trascrizione di questa chat è già stata richiesta",
    "transcript_later": "Troppe richieste. Riprova più tardi.",
    "chat_ended": "Chat terminata",
    "chat_reopened": "Chat riaperta",
    "new_chat": "Inizia una nuova chat",
    "reconnecting": "Riconnessione in corso…",
    "file_too_large": "Il file è troppo grande (massimo {max})",
    "file_type_not_allowed": "Questo tipo di file non è consentito",
    "upload_failed": "Impossibile caricare il file",
    "send_failed": "Impossibile inviare il messaggio",
    "error_generic": "Si è verificato un errore. Riprova.",
    "powered_by": "Con tecnologia Parley",
    "operator_joined": '{name} si è unito alla chat',
    "uploading": 'Caricamento di {name}… {percent}%',
    "cancel": 'Annulla',
    "queue_position": 'Sei il numero {position} in coda. Un operatore sarà presto da te.',
}

PT = {
    "launcher_open": "Abrir chat",
    "launcher_close": "Fechar chat",
    "header_title": "Fale conosco",
    "status_online": "Estamos online",
    "status_offline": "Estamos ausentes",
    "reply_time": "Costumamos responder em até {minutes} minutos",
    "minimize": "Minimizar chat",
    "invitation_close": "Fechar",
    "invitation_title": "Convite para conversar",
    "welcome_online": "Olá! Como podemos ajudar hoje?",
    "welcome_offline": "Estamos ausentes no momento. Deixe uma mensagem e entraremos em contato.",
    "composer_placeholder": "Digite sua mensagem…",
    "send": "Enviar",
    "attach_file": "Anexar um arquivo",
    "message_sending": "Enviando",
    "message_read": "Lida",
    "message_unread": "Não lida",
    "message_failed": "Não enviada. Clique para tentar novamente.",
    "retry": "Tentar novamente",
    "operator_typing": "O atendente está digitando…",
    "named_typing": "{name} está digitando…",
    "you": "Você",
    "operator": "Atendente",
    "new_message": "Nova mensagem",
    "new_messages": "{count} novas mensagens",
    "offline_form_title": "Deixe seu e-mail e entraremos em contato",
    "name_placeholder": "Seu nome",
    "email_placeholder": "Seu e-mail",
    "email_invalid": "Digite um endereço de e-mail válido",
    "submit": "Enviar",
    "offline_thanks": "Obrigado! Entraremos em contato em breve.",
    "rate_title": "Como foi este chat?",
    "rate_good": "Bom",
    "rate_bad": "Ruim",
    "rate_comment_placeholder": "Adicione um comentário (opcional)",
    "rate_thanks": "Obrigado pelo seu feedback!",
    "transcript_request": "Solicitar transcrição",
    "transcript_sent": "Enviaremos a transcrição para {email}",
    "transcript_refused": "Não podemos enviar a transcrição para este endereço",
    "transcript_already": "A transcrição desta conversa já foi solicitada",
    "transcript_later": "Muitas solicitações. Tente novamente mais tarde.",
    "chat_ended": "Chat encerrado",
    "chat_reopened": "Chat reaberto",
    "new_chat": "Iniciar um novo chat",
    "reconnecting": "Reconectando…",
    "file_too_large": "O arquivo é grande demais (máximo {max})",
    "file_type_not_allowed": "Este tipo de arquivo não é permitido",
    "upload_failed": "Não foi possível enviar o arquivo",
    "send_failed": "Não foi possível enviar sua mensagem",
    "error_generic": "Algo deu errado. Tente novamente.",
    "powered_by": "Desenvolvido por Parley",
    "operator_joined": '{name} entrou no chat',
    "uploading": 'Enviando {name}… {percent}%',
    "cancel": 'Cancelar',
    "queue_position": 'Você é o número {position} na fila. Um atendente falará com você em breve.',
}

NL = {
    "launcher_open": "Chat openen",
    "launcher_close": "Chat sluiten",
    "header_title": "Chat met ons",
    "status_online": "We zijn online",
    "status_offline": "We zijn er even niet",
    "reply_time": "We reageren meestal binnen {minutes} minuten",
    "minimize": "Chat minimaliseren",
    "invitation_close": "Sluiten",
    "invitation_title": "Chatuitnodiging",
    "welcome_online": "Hallo! Waarmee kunnen we je vandaag helpen?",
    "welcome_offline": "We zijn er nu even niet. Laat een bericht achter, dan nemen we contact met je op.",
    "composer_placeholder": "Typ je bericht…",
    "send": "Versturen",
    "attach_file": "Bestand bijvoegen",
    "message_sending": "Wordt verzonden",
    "message_read": "Gelezen",
    "message_unread": "Ongelezen",
    "message_failed": "Niet verzonden. Klik om het opnieuw te proberen.",
    "retry": "Opnieuw proberen",
    "operator_typing": "Medewerker is aan het typen…",
    "named_typing": "{name} is aan het typen…",
    "you": "Jij",
    "operator": "Medewerker",
    "new_message": "Nieuw bericht",
    "new_messages": "{count} nieuwe berichten",
    "offline_form_title": "Laat je e-mailadres achter, dan nemen we contact met je op",
    "name_placeholder": "Je naam",
    "email_placeholder": "Je e-mailadres",
    "email_invalid": "Vul een geldig e-mailadres in",
    "submit": "Verzenden",
    "offline_thanks": "Bedankt! We nemen snel contact met je op.",
    "rate_title": "Hoe was deze chat?",
    "rate_good": "Goed",
    "rate_bad": "Slecht",
    "rate_comment_placeholder": "Voeg een opmerking toe (optioneel)",
    "rate_thanks": "Bedankt voor je feedback!",
    "transcript_request": "Transcript aanvragen",
    "transcript_sent": "We sturen het transcript naar {email}",
    "transcript_refused": "We kunnen het transcript niet naar dit adres sturen",
    "transcript_already": "Het transcript van deze chat is al aangevraagd",
    "transcript_later": "Te veel verzoeken. Probeer het later opnieuw.",
    "chat_ended": "Chat beëindigd",
    "chat_reopened": "Chat heropend",
    "new_chat": "Nieuwe chat starten",
    "reconnecting": "Opnieuw verbinden…",
    "file_too_large": "Het bestand is te groot (maximaal {max})",
    "file_type_not_allowed": "Dit bestandstype is niet toegestaan",
    "upload_failed": "Het bestand kon niet worden geüpload",
    "send_failed": "Je bericht kon niet worden verzonden",
    "error_generic": "Er is iets misgegaan. Probeer het opnieuw.",
    "powered_by": "Mogelijk gemaakt door Parley",
    "operator_joined": '{name} neemt deel aan de chat',
    "uploading": '{name} wordt geüpload… {percent}%',
    "cancel": 'Annuleren',
    "queue_position": 'U bent nummer {position} in de wachtrij. Er is zo iemand voor u.',
}

# Polish and Russian counts need plural forms; the phrasing puts the number after
# a colon or uses an abbreviation so one string is correct for every number.
PL = {
    "launcher_open": "Otwórz czat",
    "launcher_close": "Zamknij czat",
    "header_title": "Porozmawiaj z nami",
    "status_online": "Jesteśmy online",
    "status_offline": "Jesteśmy niedostępni",
    "reply_time": "Zwykle odpowiadamy w ciągu {minutes} min",
    "minimize": "Zminimalizuj czat",
    "invitation_close": "Zamknij",
    "invitation_title": "Zaproszenie do czatu",
    "welcome_online": "Cześć! Jak możemy Ci dziś pomóc?",
    "welcome_offline": "Jesteśmy teraz niedostępni. Zostaw wiadomość, a odezwiemy się do Ciebie.",
    "composer_placeholder": "Napisz wiadomość…",
    "send": "Wyślij",
    "attach_file": "Załącz plik",
    "message_sending": "Wysyłanie",
    "message_read": "Przeczytano",
    "message_unread": "Nieprzeczytana",
    "message_failed": "Nie wysłano. Kliknij, aby spróbować ponownie.",
    "retry": "Spróbuj ponownie",
    "operator_typing": "Konsultant pisze…",
    "named_typing": "{name} pisze…",
    "you": "Ty",
    "operator": "Konsultant",
    "new_message": "Nowa wiadomość",
    "new_messages": "Nowe wiadomości: {count}",
    "offline_form_title": "Zostaw swój e-mail, a odezwiemy się do Ciebie",
    "name_placeholder": "Twoje imię",
    "email_placeholder": "Twój e-mail",
    "email_invalid": "Podaj prawidłowy adres e-mail",
    "submit": "Wyślij",
    "offline_thanks": "Dziękujemy! Wkrótce się odezwiemy.",
    "rate_title": "Jak oceniasz tę rozmowę?",
    "rate_good": "Dobrze",
    "rate_bad": "Źle",
    "rate_comment_placeholder": "Dodaj komentarz (opcjonalnie)",
    "rate_thanks": "Dziękujemy za opinię!",
    "transcript_request": "Poproś o zapis rozmowy",
    "transcript_sent": "Wyślemy zapis rozmowy na adres {email}",
    "transcript_refused": "Nie możemy wysłać zapisu rozmowy na ten adres",
    "transcript_already": "Zapis tej rozmowy został już zamówiony",
    "transcript_later": "Zbyt wiele próśb. Spróbuj ponownie później.",
    "chat_ended": "Czat zakończony",
    "chat_reopened": "Czat wznowiony",
    "new_chat": "Rozpocznij nowy czat",
    "reconnecting": "Ponowne łączenie…",
    "file_too_large": "Plik jest za duży (maksymalnie {max})",
    "file_type_not_allowed": "Ten typ pliku jest niedozwolony",
    "upload_failed": "Nie udało się przesłać pliku",
    "send_failed": "Nie udało się wysłać wiadomości",
    "error_generic": "Coś poszło nie tak. Spróbuj ponownie.",
    "powered_by": "Obsługiwane przez Parley",
    "operator_joined": '{name} dołącza do czatu',
    "uploading": 'Przesyłanie {name}… {percent}%',
    "cancel": 'Anuluj',
    "queue_position": 'Twoje miejsce w kolejce: {position}. Konsultant wkrótce się odezwie.',
}

RU = {
    "launcher_open": "Открыть чат",
    "launcher_close": "Закрыть чат",
    "header_title": "Напишите нам",
    "status_online": "Мы в сети",
    "status_offline": "Нас сейчас нет на месте",
    "reply_time": "Обычно отвечаем в течение {minutes} мин.",
    "minimize": "Свернуть чат",
    "invitation_close": "Закрыть",
    "invitation_title": "Приглашение в чат",
    "welcome_online": "Здравствуйте! Чем мы можем помочь?",
    "welcome_offline": "Сейчас нас нет на месте. Оставьте сообщение, и мы с вами свяжемся.",
    "composer_placeholder": "Введите сообщение…",
    "send": "Отправить",
    "attach_file": "Прикрепить файл",
    "message_sending": "Отправляется",
    "message_read": "Прочитано",
    "message_unread": "Не прочитано",
    "message_failed": "Не отправлено. Нажмите, чтобы повторить.",
    "retry": "Повторить",
    "operator_typing": "Оператор печатает…",
    "named_typing": "{name} печатает…",
    "you": "Вы",
    "operator": "Оператор",
    "new_message": "Новое сообщение",
    "new_messages": "Новых сообщений: {count}",
    "offline_form_title": "Оставьте свой email, и мы с вами свяжемся",
    "name_placeholder": "Ваше имя",
    "email_placeholder": "Ваш email",
    "email_invalid": "Введите корректный адрес электронной почты",
    "submit": "Отправить",
    "offline_thanks": "Спасибо! Мы скоро с вами свяжемся.",
    "rate_title": "Как прошёл этот чат?",
    "rate_good": "Хорошо",
    "rate_bad": "Плохо",
    "rate_comment_placeholder": "Добавьте комментарий (необязательно)",
    "rate_thanks": "Спасибо за отзыв!",
    "transcript_request": "Запросить историю переписки",
    "transcript_sent": "Мы отправим историю переписки на {email}",
    "transcript_refused": "Мы не можем отправить историю переписки на этот адрес",
    "transcript_already": "История этого чата уже запрошена",
    "transcript_later": "Слишком много запросов. Попробуйте позже.",
    "chat_ended": "Чат завершён",
    "chat_reopened": "Чат возобновлён",
    "new_chat": "Начать новый чат",
    "reconnecting": "Переподключение…",
    "file_too_large": "Файл слишком большой (максимум {max})",
    "file_type_not_allowed": "Этот тип файлов не поддерживается",
    "upload_failed": "Не удалось загрузить файл",
    "send_failed": "Не удалось отправить сообщение",
    "error_generic": "Что-то пошло не так. Попробуйте ещё раз.",
    "powered_by": "Работает на Parley",
    "operator_joined": '{name} присоединяется к чату',
    "uploading": 'Загрузка {name}… {percent}%',
    "cancel": 'Отмена',
    "queue_position": 'Ваш номер в очереди: {position}. Оператор скоро ответит.',
}

JA = {
    "launcher_open": "チャットを開く",
    "launcher_close": "チャットを閉じる",
    "header_title": "チャットでお問い合わせ",
    "status_online": "オンライン対応中",
    "status_offline": "現在対応時間外です",
    "reply_time": "通常{minutes}分以内に返信します",
    "minimize": "チャットを最小化",
    "invitation_close": "閉じる",
    "invitation_title": "チャットへの招待",
    "welcome_online": "こんにちは！どのようなご用件でしょうか？",
    "welcome_offline": "現在対応時間外です。メッセージを残していただければ、折り返しご連絡します。",
    "composer_placeholder": "メッセージを入力…",
    "send": "送信",
    "attach_file": "ファイルを添付",
    "message_sending": "送信中",
    "message_read": "既読",
    "message_unread": "未読",
    "message_failed": "送信できませんでした。クリックして再試行してください。",
    "retry": "再試行",
    "operator_typing": "オペレーターが入力中…",
    "named_typing": "{name}さんが入力中…",
    "you": "あなた",
    "operator": "オペレーター",
    "new_message": "新着メッセージ",
    "new_messages": "新着メッセージ{count}件",
    "offline_form_title": "メールアドレスを残していただければ、折り返しご連絡します",
    "name_placeholder": "お名前",
    "email_placeholder": "メールアドレス",
    "email_invalid": "有効なメールアドレスを入力してください",
    "submit": "送信する",
    "offline_thanks": "ありがとうございます！まもなくご連絡します。",
    "rate_title": "このチャットはいかがでしたか？",
    "rate_good": "良い",
    "rate_bad": "悪い",
    "rate_comment_placeholder": "コメントを追加（任意）",
    "rate_thanks": "フィードバックをありがとうございます！",
    "transcript_request": "チャット履歴をメールで受け取る",
    "transcript_sent": "チャット履歴を{email}に送信します",
    "transcript_refused": "このアドレスにはチャット履歴を送信できません",
    "transcript_already": "このチャットの履歴はすでにリクエスト済みです",
    "transcript_later": "リクエストが多すぎます。しばらくしてからもう一度お試しください。",
    "chat_ended": "チャットは終了しました",
    "chat_reopened": "チャットが再開されました",
    "new_chat": "新しいチャットを開始",
    "reconnecting": "再接続中…",
    "file_too_large": "ファイルが大きすぎます（最大{max}）",
    "file_type_not_allowed": "この種類のファイルは送信できません",
    "upload_failed": "ファイルをアップロードできませんでした",
    "send_failed": "メッセージを送信できませんでした",
    "error_generic": "エラーが発生しました。もう一度お試しください。",
    "powered_by": "Parley 提供",
    "operator_joined": '{name}がチャットに参加しました',
    "uploading": '{name}をアップロード中… {percent}%',
    "cancel": 'キャンセル',
    "queue_position": '順番待ち：{position}番目です。まもなくオペレーターが対応します。',
}

AR = {
    "launcher_open": "فتح المحادثة",
    "launcher_close": "إغلاق المحادثة",
    "header_title": "تحدث معنا",
    "status_online": "نحن متصلون الآن",
    "status_offline": "نحن غير متاحين حاليًا",
    "reply_time": "نرد عادةً خلال {minutes} دقيقة",
    "minimize": "تصغير المحادثة",
    "invitation_close": "إغلاق",
    "invitation_title": "دعوة إلى الدردشة",
    "welcome_online": "مرحبًا! كيف يمكننا مساعدتك اليوم؟",
    "welcome_offline": "نحن غير متاحين الآن. اترك رسالة وسنعاود التواصل معك.",
    "composer_placeholder": "اكتب رسالتك…",
    "send": "إرسال",
    "attach_file": "إرفاق ملف",
    "message_sending": "جارٍ الإرسال",
    "message_read": "مقروءة",
    "message_unread": "غير مقروءة",
    "message_failed": "لم تُرسل. انقر لإعادة المحاولة.",
    "retry": "إعادة المحاولة",
    "operator_typing": "الموظف يكتب…",
    "named_typing": "{name} يكتب…",
    "you": "أنت",
    "operator": "الموظف",
    "new_message": "رسالة جديدة",
    "new_messages": "رسائل جديدة: {count}",
    "offline_form_title": "اترك بريدك الإلكتروني وسنعاود التواصل معك",
    "name_placeholder": "اسمك",
    "email_placeholder": "بريدك الإلكتروني",
    "email_invalid": "يرجى إدخال بريد إلكتروني صالح",
    "submit": "إرسال",
    "offline_thanks": "شكرًا لك! سنتواصل معك قريبًا.",
    "rate_title": "كيف كانت هذه المحادثة؟",
    "rate_good": "جيدة",
    "rate_bad": "سيئة",
    "rate_comment_placeholder": "أضف تعليقًا (اختياري)",
    "rate_thanks": "شكرًا على ملاحظاتك!",
    "transcript_request": "طلب نسخة من المحادثة",
    "transcript_sent": "سنرسل نسخة المحادثة إلى {email}",
    "transcript_refused": "لا يمكننا إرسال نسخة المحادثة إلى هذا العنوان",
    "transcript_already": "تم طلب نسخة من هذه المحادثة بالفعل",
    "transcript_later": "طلبات كثيرة جدًا. يرجى المحاولة لاحقًا.",
    "chat_ended": "انتهت المحادثة",
    "chat_reopened": "أُعيد فتح المحادثة",
    "new_chat": "بدء محادثة جديدة",
    "reconnecting": "جارٍ إعادة الاتصال…",
    "file_too_large": "الملف كبير جدًا (الحد الأقصى {max})",
    "file_type_not_allowed": "نوع الملف هذا غير مسموح به",
    "upload_failed": "تعذّر رفع الملف",
    "send_failed": "تعذّر إرسال رسالتك",
    "error_generic": "حدث خطأ ما. يرجى المحاولة مرة أخرى.",
    "powered_by": "مدعوم من Parley",
    "operator_joined": 'انضم {name} إلى المحادثة',
    "uploading": 'جارٍ رفع {name}… {percent}%',
    "cancel": 'إلغاء',
    "queue_position": 'ترتيبك {position} في قائمة الانتظار. سيتواصل معك أحد الموظفين قريبًا.',
}

HE = {
    "launcher_open": "פתיחת הצ'אט",
    "launcher_close": "סגירת הצ'אט",
    "header_title": "דברו איתנו",
    "status_online": "אנחנו מחוברים",
    "status_offline": "אנחנו לא זמינים כרגע",
    "reply_time": "בדרך כלל אנחנו עונים תוך {minutes} דקות",
    "minimize": "מזעור הצ'אט",
    "invitation_close": "סגירה",
    "invitation_title": "הזמנה לצ'אט",
    "welcome_online": "שלום! איך נוכל לעזור היום?",
    "welcome_offline": "אנחנו לא זמינים כרגע. השאירו הודעה ונחזור אליכם.",
    "composer_placeholder": "הקלידו הודעה…",
    "send": "שליחה",
    "attach_file": "צירוף קובץ",
    "message_sending": "נשלחת",
    "message_read": "נקראה",
    "message_unread": "לא נקראה",
    "message_failed": "לא נשלחה. לחצו כדי לנסות שוב.",
    "retry": "ניסיון חוזר",
    "operator_typing": "הנציג מקליד…",
    "named_typing": "{name} מקליד…",
    "you": "את/ה",
    "operator": "נציג",
    "new_message": "הודעה חדשה",
    "new_messages": "{count} הודעות חדשות",
    "offline_form_title": "השאירו את כתובת האימייל שלכם ונחזור אליכם",
    "name_placeholder": "השם שלכם",
    "email_placeholder": "האימייל שלכם",
    "email_invalid": "נא להזין כתובת אימייל תקינה",
    "submit": "שליחה",
    "offline_thanks": "תודה! נחזור אליכם בקרוב.",
    "rate_title": "איך הייתה השיחה?",
    "rate_good": "טובה",
    "rate_bad": "גרועה",
    "rate_comment_placeholder": "הוסיפו הערה (לא חובה)",
    "rate_thanks": "תודה על המשוב!",
    "transcript_request": "בקשת תמליל השיחה",
    "transcript_sent": "נשלח את תמליל השיחה אל {email}",
    "transcript_refused": "לא ניתן לשלוח את תמליל השיחה לכתובת זו",
    "transcript_already": "תמליל השיחה הזו כבר נתבקש",
    "transcript_later": "יותר מדי בקשות. נסו שוב מאוחר יותר.",
    "chat_ended": "השיחה הסתיימה",
    "chat_reopened": "השיחה נפתחה מחדש",
    "new_chat": "התחלת שיחה חדשה",
    "reconnecting": "מתחבר מחדש…",
    "file_too_large": "הקובץ גדול מדי (עד {max})",
    "file_type_not_allowed": "סוג הקובץ הזה אינו מותר",
    "upload_failed": "לא ניתן היה להעלות את הקובץ",
    "send_failed": "לא ניתן היה לשלוח את ההודעה",
    "error_generic": "משהו השתבש. נא לנסות שוב.",
    "powered_by": "מופעל על ידי Parley",
    "operator_joined": '{name} הצטרפו לצ׳אט',
    "uploading": 'מעלה את {name}… {percent}%',
    "cancel": 'ביטול',
    "queue_position": 'מקומך בתור: {position}. נציג יענה בקרוב.',
}

# Every table, keyed by 2-letter code; LANGUAGES keeps a fixed order for menus and tests.
STRINGS = {
    "en": EN,
    "de": DE,
    "fr": FR,
    "es": ES,
    "it": IT,
    "pt": PT,
    "nl": NL,
    "pl": PL,
    "ru": RU,
    "ja": JA,
    "ar": AR,
    "he": HE,
}
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "ja", "ar", "he")
# Sorted: MicroPython dicts do not promise insertion order.
KEYS = tuple(sorted(EN))


def placeholders(text):
    """The sorted names of the `{name}` placeholders in `text`."""
    names = []
    start = text.find("{")
    while start >= 0:
        end = text.find("}", start + 1)
        if end < 0:
            break
        name = text[start + 1 : end]
        if "{" in name:
            # '{{x}': the inner brace starts the real placeholder.
            start = text.find("{", start + 1)
            continue
        if name and name not in names:
            names.append(name)
        start = text.find("{", end + 1)
    return sorted(names)


def _parse_q(text):
    # An Accept-Language weight ("0.8"); None when it is not a number, so the
    # entry is skipped like a browser would. Above 1 is treated as 1.
    if not text or text.count(".") > 1:
        return None
    for char in text:
        if not ("0" <= char <= "9" or char == "."):
            return None
    if text == ".":
        return None
    value = float(text)
    return 1.0 if value > 1 else value


def ranked_languages(accept_language):
    """Language tags in preference order from an Accept-Language string
    ('da, en-GB;q=0.8') or a list already in order (navigator.languages).

    Entries with q=0 ("not acceptable") or an unreadable q are dropped; equal
    weights keep their written order.
    """
    if isinstance(accept_language, (list, tuple)):
        return [tag.strip() for tag in accept_language if isinstance(tag, str) and tag.strip()]
    if not isinstance(accept_language, str):
        return []
    ranked = []
    index = 0
    for part in accept_language.split(","):
        pieces = part.split(";")
        tag = pieces[0].strip()
        if not tag:
            continue
        weight = 1.0
        for param in pieces[1:]:
            eq = param.find("=")
            if eq >= 0 and param[:eq].strip().lower() == "q":
                weight = _parse_q(param[eq + 1 :].strip())
        if weight is None or weight <= 0:
            continue
        # The index breaks ties: MicroPython's sort is not stable.
        ranked.append((-weight, index, tag))
        index += 1
    ranked.sort()
    return [entry[2] for entry in ranked]


def choose_language(use=None, source=None, html_lang=None, accept_language=None, supported=LANGUAGES):
    """The widget language: a code from `supported` (English when possible).

    - `use` (a 2-letter code or a tag like 'pt-BR') overrides everything; if it
      is not supported the result is the fallback, not a guess from the
      visitor's browser, since the site asked for one fixed language.
    - source 'html': the `<html lang>` value; if the page declares none, the
      visitor's languages are used; a declared but unsupported one gives the fallback.
    - source 'header' (the default, also for any other value): the first
      supported entry of `accept_language` (header string or list).
    """
    supported = [code for code in supported if isinstance(code, str)] if supported else []
    fallback = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in supported or not supported else supported[0]
    if isinstance(use, str) and use.strip():
        code = split_language_tag(use)
        return code if code in supported else fallback
    if source == "html" and isinstance(html_lang, str) and html_lang.strip():
        code = split_language_tag(html_lang)
        return code if code in supported else fallback
    for tag in ranked_languages(accept_language):
        code = split_language_tag(tag)
        if code is not None and code in supported:
            return code
    return fallback


def _text(value):
    # str() of a host object can raise; a translation must never raise. None
    # (JS undefined/null) shows as nothing rather than the word "None".
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return str(value)
    except Exception:
        return ""


def fill(template, params):
    """Replaces `{name}` with str(params[name]); unknown placeholders stay as written."""
    out = []
    i = 0
    while True:
        start = template.find("{", i)
        if start < 0:
            break
        end = template.find("}", start + 1)
        if end < 0:
            break
        name = template[start + 1 : end]
        if name in params:
            out.append(template[i:start])
            out.append(_text(params[name]))
            i = end + 1
        else:
            out.append(template[i : start + 1])
            i = start + 1
    out.append(template[i:])
    return "".join(out)


class Translator:
    """Looks up widget strings in one language, falling back to English."""

    def __init__(self, lang=DEFAULT_LANGUAGE):
        """`lang`: a code or tag ('de', 'pt-BR'); unsupported ones mean English."""
        code = split_language_tag(lang)
        self.lang = code if code in STRINGS else DEFAULT_LANGUAGE
        self.is_rtl = self.lang in RTL_LANGUAGES
        # The value for the widget root's dir attribute.
        self.direction = "rtl" if self.is_rtl else "ltr"
        self._table = STRINGS[self.lang]

    def t(self, key, **params):
        """The text for `key` with `{placeholders}` filled from `params`.

        Falls back to English, then to the key itself; never raises.
        """
        template = self._table.get(key) if isinstance(key, str) else None
        if not isinstance(template, str):
            template = EN.get(key) if isinstance(key, str) else None
        if not isinstance(template, str):
            return _text(key)
        if not params:
            return template
        return fill(template, params)
